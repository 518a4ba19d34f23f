// SPDX-License-Identifier: MPL-2.0
// Security across real processes: zmesh keygen, a secured zmesh pub -> zmesh sub, a process
// whose key is not allowed getting nothing, and secret key files refused with one line.
#include "system_fixture.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class security_system : public system_fixture {
protected:
    fs::path dir_ = fs::temp_directory_path() / ("zmesh-sec-" + mesh_);
    fs::path allow_ = dir_ / "allow";   // the members' public keys
    fs::path keys_ = dir_ / "keys";     // everyone's secret keys

    fs::path mesh_secret_ = keys_ / "mesh.secret";   // shared by every member (and the stranger)

    void SetUp() override {
        fs::create_directories(allow_);
        fs::create_directories(keys_);
        process p(tool("zmesh"), {"keygen", "--mesh-secret", mesh_secret_.string()});
        ASSERT_EQ(p.wait(10s), std::optional<int>(0)) << p.err();
    }
    void TearDown() override { fs::remove_all(dir_); }

    // Runs zmesh keygen for `name`; a member's public key goes into the allow directory.
    void keygen(const std::string& name, bool member) {
        process p(tool("zmesh"), {"keygen", "--out", (keys_ / name).string()});
        ASSERT_EQ(p.wait(10s), std::optional<int>(0)) << p.err();
        ASSERT_EQ(p.out_lines().size(), 1u);
        EXPECT_EQ(p.out_lines().front().size(), 40u);   // the Z85 public key
        if (member) fs::copy_file(keys_ / (name + ".pub"), allow_ / (name + ".pub"));
    }
    std::vector<std::string> secured(const std::string& name) const {
        return {"--key", (keys_ / (name + ".key")).string(), "--allow", allow_.string(),
                "--mesh-secret", mesh_secret_.string()};
    }
    process& spawn_tool(std::vector<std::string> args) {
        procs_.push_back(std::make_unique<process>(tool("zmesh"), args));
        return *procs_.back();
    }
    std::vector<std::string> tool_args(const std::string& command, const std::string& name) const {
        std::vector<std::string> a = {command, "--mesh", mesh_, "--beacon-port",
                                      std::to_string(beacon_port_), "--name", name};
        for (const auto& s : secured(name)) a.push_back(s);
        return a;
    }
};

TEST_F(security_system, keygen_writes_a_private_secret_and_a_public_key) {
    keygen("alpha", false);
    struct stat st {};
    ASSERT_EQ(::stat((keys_ / "alpha.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    process again(tool("zmesh"), {"keygen", "--out", (keys_ / "alpha").string()});
    EXPECT_EQ(again.wait(10s), std::optional<int>(1)) << "overwrote a key";
    EXPECT_NE(again.err().find("alpha.key"), std::string::npos) << again.err();
}

TEST_F(security_system, secured_sub_gets_events_and_a_stranger_gets_none) {
    keygen("pub", true);
    keygen("sub", true);
    keygen("stranger", false);
    auto args = tool_args("sub", "sub");
    for (const char* a : {"orders.", "--count", "100", "--json", "--timeout", "60"}) args.push_back(a);
    auto& sub = spawn_tool(args);
    // The stranger trusts the members, but they do not trust it: it never sees a peer.
    auto stranger_args = tool_args("sub", "stranger");
    for (const char* a : {"orders.", "--count", "1", "--json", "--timeout", "5"}) stranger_args.push_back(a);
    auto& stranger = spawn_tool(stranger_args);
    // Once the subscriber's filter is in place (a readiness wait with the publisher's key).
    auto ready = tool_args("check", "pub");
    for (const char* a : {"--expect-subscriber", "orders.created", "--timeout", "30s"}) ready.push_back(a);
    process check(tool("zmesh"), ready);
    ASSERT_EQ(check.wait(60s), std::optional<int>(0)) << check.out() << check.err();
    args = tool_args("pub", "pub");
    for (const char* a : {"orders.created", R"({"secret": "marker"})", "--count", "100"}) args.push_back(a);
    auto& pub = spawn_tool(args);

    ASSERT_EQ(pub.wait(60s), std::optional<int>(0)) << pub.err();
    ASSERT_EQ(sub.wait(60s), std::optional<int>(0)) << sub.err();
    EXPECT_EQ(sub.out_lines().size(), 100u);
    const auto code = stranger.wait(30s);
    EXPECT_NE(code, std::optional<int>(0)) << "the stranger got in";
    EXPECT_TRUE(stranger.out().empty()) << stranger.out();
}

TEST_F(security_system, zmesh_call_reaches_a_secured_seed_named_by_its_key_file) {
    keygen("seed", true);
    keygen("caller", true);
    const auto port = std::to_string(free_port());
    auto seed_args = secured("seed");
    for (const char* f : {"--beacon-interval", "0", "--serve", "echo"}) seed_args.push_back(f);
    seed_args.insert(seed_args.end(), {"--router-port", port});
    auto& seed = spawn_node("seed", seed_args);
    // No beacons anywhere: only the seed, named as a member (allow/seed.pub), finds the mesh.
    auto args = tool_args("call", "caller");
    args.insert(args.end(), {"--beacon-interval", "0", "--seed", "seed@tcp://127.0.0.1:" + port,
                             "--timeout", "20s", "echo", R"("over CURVE")"});
    auto& call = spawn_tool(args);
    ASSERT_EQ(call.wait(30s), std::optional<int>(0)) << call.err() << seed.err();
    EXPECT_EQ(call.out(), "\"over CURVE\"\n");
    // A seed named by nothing the caller knows is one clear line.
    args = tool_args("call", "caller");
    args.insert(args.end(), {"--seed", "nobody@tcp://127.0.0.1:" + port, "echo", "1"});
    process bad(tool("zmesh"), args);
    ASSERT_EQ(bad.wait(10s), std::optional<int>(1)) << bad.err();
    EXPECT_NE(bad.err().find("nobody.pub"), std::string::npos) << bad.err();
}

TEST_F(security_system, a_secured_mesh_can_come_from_the_environment) {
    keygen("seed", true);
    keygen("caller", true);
    const auto port = std::to_string(free_port());
    auto seed_args = secured("seed");
    for (const char* f : {"--beacon-interval", "0", "--serve", "echo"}) seed_args.push_back(f);
    seed_args.insert(seed_args.end(), {"--router-port", port});
    auto& seed = spawn_node("seed", seed_args);
    // Not one mesh flag on the command line: ZMESH_MESH, ZMESH_KEY, ZMESH_ALLOW,
    // ZMESH_MESH_SECRET and ZMESH_SEED say it all.
    const auto command = "ZMESH_MESH='" + mesh_ + "' ZMESH_KEY='" + (keys_ / "caller.key").string() +
                         "' ZMESH_ALLOW='" + allow_.string() + "' ZMESH_MESH_SECRET='" + mesh_secret_.string() +
                         "' ZMESH_SEED='seed@tcp://127.0.0.1:" + port + "' exec " + tool("zmesh") +
                         " call --beacon-interval 0 --timeout 20s echo from-env";
    process call("/bin/sh", {"-c", command});
    ASSERT_EQ(call.wait(30s), std::optional<int>(0)) << call.err() << seed.err();
    EXPECT_EQ(call.out(), "\"from-env\"\n");
}

TEST_F(security_system, open_or_missing_secret_key_stops_a_tool_with_one_line) {
    keygen("alpha", true);
    ::chmod((keys_ / "alpha.key").c_str(), 0644);
    for (const auto& key : {keys_ / "alpha.key", keys_ / "missing.key"}) {
        process p(tool("zmesh-node"), {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_),
                                        "--key", key.string(), "--allow", allow_.string(),
                                        "--mesh-secret", mesh_secret_.string()});
        ASSERT_EQ(p.wait(10s), std::optional<int>(1)) << p.err();
        const auto err = p.err();
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
        EXPECT_NE(err.find(key.filename().string()), std::string::npos) << err;
    }
}

TEST_F(security_system, mesh_secret_is_private_long_enough_and_required_with_a_key) {
    struct stat st {};
    ASSERT_EQ(::stat(mesh_secret_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(fs::file_size(mesh_secret_), 65u);   // 32 random bytes in hex, and a newline
    keygen("alpha", true);
    const auto node_with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_),
                                          "--key", (keys_ / "alpha.key").string(), "--allow", allow_.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        process p(tool("zmesh-node"), args);
        EXPECT_EQ(p.wait(10s), std::optional<int>(1)) << p.err();
        const auto err = p.err();
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
        return err;
    };
    EXPECT_NE(node_with({}).find("--mesh-secret"), std::string::npos);
    const auto weak = keys_ / "weak.secret";
    { std::ofstream(weak) << "too short\n"; }
    ::chmod(weak.c_str(), 0600);
    EXPECT_NE(node_with({"--mesh-secret", weak.string()}).find("shorter than 16"), std::string::npos);
    ::chmod(mesh_secret_.c_str(), 0640);
    EXPECT_NE(node_with({"--mesh-secret", mesh_secret_.string()}).find("chmod 600"), std::string::npos);
}

}  // namespace
}  // namespace zmesh::test
