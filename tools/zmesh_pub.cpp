// SPDX-License-Identifier: MPL-2.0
// zmesh pub: publishes one body COUNT times to the members subscribed to its topic, and says
// to whom, and what it could not vouch for.
#include "commands.hpp"
#include "suggest.hpp"
#include "protocol/event.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

namespace zmesh::tool {

namespace {

const char* const about =
    "Publishes BODY (JSON; a bare word is a string; - reads stdin) as msgpack on TOPIC, --count\n"
    "times, then leaves. Joins as an observer. It publishes once --wait-peers members subscribed\n"
    "to TOPIC are there (their filters in place: nothing is published into the void), and fails\n"
    "when fewer are once the view of the mesh has settled (to wait for subscribers still\n"
    "starting: zmesh check --expect-subscriber TOPIC --timeout D).\n"
    "Up to --count events (at most 1,000,000; --hwm sets another bound) queue for a subscriber\n"
    "slower than this publisher; libzmq drops the excess without a word, as it does what is\n"
    "still queued a second after the last is published: zmesh sub reports what it missed.\n"
    "With --stream it stores BODY once in the streams of the member holding one that takes TOPIC\n"
    "(or --node's; zmesh.stream.publish): that member publishes it as its own event, and this\n"
    "exits once the member has stored it.\n"
    "Exit: 0 published (--stream: stored); 1 fewer subscribers than --wait-peers, stopped\n"
    "(SIGINT/SIGTERM) before --count, no stream takes TOPIC, the member refused, or a bad value;\n"
    "2 bad flags.";

// The most events queued for one subscriber when --hwm is not given.
constexpr std::uint64_t max_burst = 1'000'000;

std::vector<peer_info> subscribers_of(const std::vector<peer_info>& peers, const std::string& topic) {
    std::vector<peer_info> out;
    for (const auto& p : cli::members_of(peers))
        if (subscribes_to(p, topic)) out.push_back(p);
    return out;
}

// "stock: orders., billing: (none)": what each member subscribes to.
std::string describe_subscriptions(const std::vector<peer_info>& members) {
    std::string s;
    for (std::size_t i = 0; i < members.size() && i < 8; ++i) {
        const auto& p = members[i];
        s += (i ? "; " : "") + p.name + ": " + (p.subscriptions.empty() ? "(none)" : cli::list(p.subscriptions, 4));
    }
    if (members.size() > 8) s += "; ... (" + std::to_string(members.size() - 8) + " more)";
    return s;
}

}  // namespace

int pub(int argc, char** argv) {
    cli::po::options_description own("zmesh pub options");
    // clang-format off
    own.add_options()
        ("count", cli::po::value<std::uint64_t>()->default_value(1), "events to publish")
        ("rate", cli::po::value<double>()->default_value(0), "events per second (0: as fast as possible)")
        ("wait-peers", cli::po::value<std::size_t>()->default_value(1), "members subscribed to TOPIC to publish to (0: publish to whoever is there once the view has settled)")
        ("stream", "store BODY once in the streams of the member that holds one taking TOPIC (or --node's), and exit once it is stored")
        ("node", cli::po::value<std::string>(), "with --stream: the member to publish through (by name, or by its id)")
        ("timeout", cli::po::value<std::string>()->default_value("5000"), "with --stream: ms to wait for it to be stored, or with a unit (2s)");
    // clang-format on
    add_wait_flag(own);
    const auto cl = cli::parse(argc, argv,
                               {argv[0], "zmesh pub [options] TOPIC BODY", about, {"TOPIC", "BODY"}, true, "warn"}, own);
    const auto& vm = cl.vm;
    const auto& topic = cl.args[0];
    if (protocol::check_topic(topic)) throw std::invalid_argument("topic must be 1..255 bytes without NUL");
    const auto payload = cli::body_to_msgpack(cl.args[1], std::cin);
    if (vm.count("stream")) {
        if (!vm["count"].defaulted() || !vm["rate"].defaulted() || !vm["wait-peers"].defaulted())
            throw std::invalid_argument("--count, --rate and --wait-peers do not go with --stream: it stores one message");
        return pub_stored(vm, argv[0], topic, payload);
    }
    if (vm.count("node")) throw std::invalid_argument("--node goes with --stream");
    const auto count = vm["count"].as<std::uint64_t>();
    if (count == 0) throw std::invalid_argument("--count must be at least 1");
    const double rate = vm["rate"].as<double>();
    if (!(rate >= 0)) throw std::invalid_argument("--rate must be >= 0");
    const auto want = vm["wait-peers"].as<std::size_t>();
    const auto wait = wait_flag(vm);

    auto o = job_options(vm, "pub", false);
    // A burst queues whole for a subscriber slower than this publisher, up to a bound on the
    // memory one slow subscriber may take; --hwm says otherwise.
    if (vm["hwm"].defaulted())
        o.send_hwm = static_cast<int>(std::clamp<std::uint64_t>(count, static_cast<std::uint64_t>(o.send_hwm), max_burst));
    const auto start = steady::now();
    node n(o);
    beacon_listener listener(o, n.id());
    n.start();
    auto rules = cli::settle_rules_for(o);
    rules.subscriptions = true;   // a member's filters are in place once it said so (SUBS)
    // Enough subscribers, and every member met so far has told its subscriptions: the events
    // reach all who want them, not only the first K.
    const auto view = cli::await_view(n, rules, start, milliseconds(0), wait,
        [&](const std::vector<peer_info>& peers, const cli::settle_tracker& t, steady::time_point now) {
            return want > 0 && subscribers_of(peers, topic).size() >= want && t.quiet_for(milliseconds(150), now);
        }, &listener);
    if (view.outcome == cli::view_outcome::interrupted) return cli::interrupted_status(view.signal);
    const auto members = cli::members_of(view.peers);
    if (want > 0 && view.outcome != cli::view_outcome::ready) {
        const auto found = subscribers_of(view.peers, topic).size();
        const std::string why = members.empty()
            ? cli::why_no_members(o, listener)
            : (found == 0 ? "no member" : std::to_string(found) + " member(s)") + " subscribe(s) to '" + topic +
                  "', --wait-peers wants " + std::to_string(want) + "; subscriptions: " + describe_subscriptions(members);
        throw std::runtime_error(why + cli::unsettled_note(view));
    }

    // libzmq's PUB drops what passes a subscriber's queue and tells no one: only the
    // subscriber can count it, so the user is told before it happens.
    if (!subscribers_of(view.peers, topic).empty() && o.send_hwm > 0 && count > static_cast<std::uint64_t>(o.send_hwm))
        std::fprintf(stderr, "note: --count %llu is above --hwm %d: a subscriber slower than this publisher loses "
                             "whatever passes %d queued events, dropped silently by libzmq (zmesh sub reports what it "
                             "missed)%s\n", static_cast<unsigned long long>(count), o.send_hwm, o.send_hwm,
                     rate == 0 ? "; --rate paces the publisher" : "");
    std::uint64_t published = 0, full_waits = 0;
    int stopped_by = 0;
    const auto t0 = steady::now();
    for (; published < count && !stopped_by; ++published) {
        if (rate > 0) {
            const auto due = t0 + std::chrono::duration_cast<steady::duration>(
                                      std::chrono::duration<double>(static_cast<double>(published) / rate));
            if ((stopped_by = cli::wait_for_signal(std::chrono::duration_cast<milliseconds>(due - steady::now()))))
                break;
        }
        // A full queue means the reactor is behind: wait for room rather than drop.
        if (!n.publish_packed(topic, payload)) {
            ++full_waits;
            while (!n.publish_packed(topic, payload)) {
                if (!n.running()) throw std::runtime_error("the node stopped after " + std::to_string(published) + " event(s)");
                if ((stopped_by = cli::wait_for_signal(milliseconds(0)))) break;
                std::this_thread::yield();
            }
            if (stopped_by) break;
        }
    }
    const auto subscribers = subscribers_of(n.peers(), topic);
    n.stop();   // flushes what is queued for subscribers (up to 1 s)

    std::string line = "published " + std::to_string(published) + " event(s) on " + topic;
    if (subscribers.empty())
        line += "; no member subscribes to it: no one received them";
    else
        line += " to " + std::to_string(subscribers.size()) + " subscriber(s) (" + names_of(subscribers) + ")";
    if (full_waits > 0)
        line += "; the node's publish queue was full " + std::to_string(full_waits) +
                " time(s): waited for room, dropped none";
    std::fprintf(stderr, "%s\n", line.c_str());
    if (stopped_by) {
        std::fprintf(stderr, "zmesh pub: error: stopped after %llu of %llu event(s)\n",
                     static_cast<unsigned long long>(published), static_cast<unsigned long long>(count));
        return 1;
    }
    return 0;
}

}  // namespace zmesh::tool
