// SPDX-License-Identifier: MPL-2.0
// A tiny service on the installed library: it makes a key, starts a node that stays on this
// host, publishes an event to its own subscription and prints "ok" when the event is back.
#include <zmesh/zmesh.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <string>

int main(int argc, char** argv) {
    const auto pair = zmesh::generate_keypair();   // links libzmq's CURVE
    if (zmesh::public_key_of(pair.secret_key) != pair.public_key) return 1;

    zmesh::options o;
    o.name = "consumer";
    o.mesh = argc > 1 ? argv[1] : "consumer-test";
    o.interface = "lo";
    o.bind = "127.0.0.1";
    o.beacon_interval = std::chrono::milliseconds(0);   // alone: no beacons at all
    zmesh::node n(o);
    std::promise<std::string> got;
    n.subscribe("greet.", [&got](const zmesh::event& e) { got.set_value(e.as<std::string>()); });
    n.start();
    if (!n.publish("greet.world", std::string("hello"))) return 2;
    auto f = got.get_future();
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 3;
    if (f.get() != "hello") return 4;
    n.stop();
    std::puts("ok");
    return 0;
}
