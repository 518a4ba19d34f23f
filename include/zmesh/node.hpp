// SPDX-License-Identifier: MPL-2.0
// node: the embeddable zmesh API. One node is one member of a mesh.
//
//   zmesh::options o;
//   o.name = "inventory";
//   o.mesh = "shop";
//   zmesh::node n(o);
//   n.on_peer_event([](const zmesh::peer_event& e) { ... });   // before start()
//   n.subscribe("orders.", [](const zmesh::event& e) { ... e.as<order>() ... });
//   n.start();                  // binds, beacons, joins; throws on setup errors
//   n.publish("orders.created", order{...});   // any msgpack-able value
//   auto peers = n.peers();     // snapshot, from any thread
//   n.stop();                   // sends LEAVE so peers see us go at once
//
// Threads: start() runs one reactor thread that owns every socket, and one delivery thread
// that runs the application's callbacks (peer events and event handlers), one at a time, in
// arrival order. A slow callback never delays heartbeats: the reactor keeps running, and when
// too many events wait for handlers (options::receive_queue) it stops reading them, so the
// publisher drops (never blocks) and this node counts the gaps.
// Other methods may be called from any thread (each call is a message to the reactor).
#pragma once

#include <zmesh/event.hpp>
#include <zmesh/node_id.hpp>
#include <zmesh/options.hpp>
#include <zmesh/pack_buffer.hpp>
#include <zmesh/peer.hpp>
#include <zmesh/rpc.hpp>
#include <zmesh/stats.hpp>
#include <zmesh/streams.hpp>

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zmesh {

using event_handler = std::function<void(const event&)>;

// Where the node runs a piece of application code: a served method's handler (serve), a
// call's callback (call with a callback), an event handler (subscribe).
enum class run_on {
    // A thread of the node's for application code: one of options::rpc_workers threads for
    // a served method (started with the first such method), the delivery thread for
    // callbacks and event handlers. Any code, slow or blocking included. The default.
    handler_thread,
    // The reactor thread itself, at once: no thread hop (a wake-up of another thread, which
    // costs more than the work of a small handler). Only for code that returns within
    // microseconds and never blocks: while it runs this node reads nothing, sends nothing and
    // heartbeats nobody. It may publish() and call() with a callback; it must not wait on
    // this node (peers(), stats() and call().get() would stall until their own timeouts).
    reactor,
};
using subscription_id = std::uint64_t;

class node {
public:
    // Throws std::invalid_argument (with a one-line message) when `o` is invalid.
    explicit node(options o);
    ~node();   // stop()s
    node(const node&) = delete;
    node& operator=(const node&) = delete;

    // Called on the delivery thread for every peer event, in order. Set before start().
    void on_peer_event(std::function<void(const peer_event&)> handler);

    // Binds the sockets, opens the beacon and starts the threads. Throws std::runtime_error
    // with a one-line message when a socket cannot be bound or no interface fits.
    void start();
    // Sends LEAVE to every peer, closes every socket (flushing for up to 500 ms) and joins the
    // threads, after the handler running now returns; events still queued for handlers are
    // dropped (peer events and call results are still delivered). Idempotent. Must not be
    // called from a callback of this node.
    void stop();
    bool running() const noexcept;

    const node_id& id() const noexcept { return id_; }
    const std::string& name() const noexcept { return options_.name; }
    const options& config() const noexcept { return options_; }
    // The endpoints peers dial, valid after start().
    const std::string& pub_endpoint() const noexcept { return pub_endpoint_; }
    const std::string& router_endpoint() const noexcept { return router_endpoint_; }

    // Calls `handler` on the delivery thread for every event whose topic starts with `prefix`
    // ("" = every topic), from any peer and from this node itself. Any thread, before or
    // after start(); works for peers that join later and again for peers that come back.
    // With run_on::reactor the handler runs on the reactor as each event is read: no thread
    // hop and no queue (options::receive_queue does not apply), for handlers that take
    // microseconds (see run_on).
    // Returns: an id for unsubscribe(). Throws std::invalid_argument for a prefix over 255
    // bytes (245 with libzmq before 4.3.5, whose longer subscriptions break the connection)
    // or containing NUL, and std::length_error for a 1001st distinct prefix, or one
    // that takes the distinct prefixes past 64 KiB in all (publishers cut a subscriber past
    // either, and a node tells its peers all of its prefixes in one message; any number of
    // subscriptions may share one). An exception from the handler is counted, never
    // propagated.
    subscription_id subscribe(std::string prefix, event_handler handler,
                              run_on where = run_on::handler_thread);
    // Stops the handler. Events already queued for it may still reach it. Any thread.
    void unsubscribe(subscription_id id);

    // Publishes `value` (anything msgpack-cxx packs, MSGPACK_DEFINE structs included; nullptr
    // as nil) on
    // `topic` to every subscriber of a matching prefix. Any thread; never blocks.
    // Returns: false when not running or this thread's publish queue is full (counted in
    // stats().publish_dropped). Throws std::invalid_argument for a topic that is empty, over
    // 255 bytes or has NUL, or a payload over options::max_event_size.
    template <class T>
    bool publish(std::string_view topic, const T& value) {
        // One buffer per thread, reused: packing allocates nothing once it has grown.
        static thread_local msgpack::sbuffer buffer(256);
        buffer.clear();
        pack_value(buffer, value);
        return send_event(
            topic, {reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
    }
    // Publishes raw bytes, as a msgpack bin.
    bool publish(std::string_view topic, std::span<const std::uint8_t> bytes);
    // Publishes bytes that are already one msgpack object (checked: else invalid_argument).
    bool publish_packed(std::string_view topic, std::span<const std::uint8_t> msgpack_bytes);

    // Serves `method` (1..128 bytes): each request runs `handler` on one of the node's
    // options::rpc_workers threads, so slow handlers never delay heartbeats or other calls
    // (up to rpc_workers run at once; up to rpc_queue more wait, then callers get "busy").
    // With run_on::reactor it runs on the reactor thread instead: two thread hops fewer per
    // request (fast handlers only: see run_on).
    // The method is advertised to every peer (in HELLO), so call() finds it. Any thread,
    // before or after start(); serving a method again replaces its handler. A handler that
    // throws replies with an error: an rpc_error with its code and message; a decode_error
    // (as<T>() of arguments of another type) with -32602, invalid params; anything else with
    // -32603. The text of those two goes to the caller only with options::rpc_expose_errors;
    // else it is logged here (at warn, a line a second at most).
    // Throws std::invalid_argument for a bad name or an empty handler.
    void serve(std::string method, rpc_handler handler, run_on where = run_on::handler_thread);
    void unserve(const std::string& method);

    // Calls `method` on the joined peer that serves it with the fewest calls outstanding
    // from this node (ties: round robin). Never blocks. The future fails with rpc_error:
    // no_provider at once when nobody serves it, peer_lost at once when the peer leaves,
    // timeout after `timeout`, remote when the handler failed, busy when the server's queue
    // was full (nothing ran), stopped, invalid.
    // `args` is anything msgpack-cxx packs; nullptr sends nil.
    template <class T>
    std::future<reply> call(std::string_view method, const T& args, milliseconds timeout) {
        return call_packed({}, method, pack(args), timeout);
    }
    // The same with no arguments: the handler receives nil.
    std::future<reply> call(std::string_view method, milliseconds timeout) {
        return call(method, nullptr, timeout);
    }
    // The same, on one peer (by id; see peers()), whether or not it advertises the method.
    template <class T>
    std::future<reply> call_peer(const node_id& peer, std::string_view method, const T& args,
                                 milliseconds timeout) {
        return call_packed(peer, method, pack(args), timeout);
    }
    // The same, on the joined member named `peer_name` (see peers()), whether or not it
    // advertises the method. Names need not be unique: with several members of that name
    // the call goes to the one with the fewest calls outstanding from this node (ties: in
    // turn), as call() chooses among providers; call_peer names one by its id. Fails with
    // no_provider, naming the name, when no joined member (observers aside) has it.
    template <class T>
    std::future<reply> call_named(std::string_view peer_name, std::string_view method, const T& args,
                                  milliseconds timeout) {
        return call_named_packed(peer_name, method, pack(args), timeout);
    }
    // Callback forms: `done` runs once, on the delivery thread, or with run_on::reactor on
    // the reactor as the reply arrives (or at once on this thread when the call is refused
    // before it starts: invalid, stopped).
    template <class T>
    void call(std::string_view method, const T& args, milliseconds timeout, call_callback done,
              run_on where = run_on::handler_thread) {
        call_packed({}, method, pack(args), timeout, std::move(done), where);
    }
    template <class T>
    void call_peer(const node_id& peer, std::string_view method, const T& args, milliseconds timeout,
                   call_callback done, run_on where = run_on::handler_thread) {
        call_packed(peer, method, pack(args), timeout, std::move(done), where);
    }
    // Arguments already packed as one msgpack object; `peer` empty = any provider.
    std::future<reply> call_packed(std::optional<node_id> peer, std::string_view method,
                                   std::vector<std::uint8_t> args, milliseconds timeout);
    void call_packed(std::optional<node_id> peer, std::string_view method,
                     std::vector<std::uint8_t> args, milliseconds timeout, call_callback done,
                     run_on where = run_on::handler_thread);

    // Durable streams (<zmesh/streams.hpp>): publishing needs options::data_dir. Each of
    // these runs on the reactor and returns when it is done; any thread, after start().
    // Declares a stream in this node's log, or changes its prefix and limits (its messages
    // stay). Throws stream_error: no data_dir, a name outside 1..255 bytes, the log failed.
    void declare_stream(const stream_config& config);
    // Removes a stream with its messages and consumers' positions. Returns: whether it existed.
    bool remove_stream(const std::string& name);
    // Returns: the streams this node publishes, as its log holds them now.
    std::vector<stream_info> streams() const;
    // Publishes like publish(), and stores the event in every stream that takes its topic.
    // The future is ready once it is stored (as options::stream_durability promises), or
    // fails with stream_error: no stream takes the topic, no data_dir, not running, the log
    // failed. Throws what publish() throws.
    template <class T>
    std::future<void> publish_stored(std::string_view topic, const T& value) {
        return publish_stored(topic, std::string_view(), value);
    }
    // The same, the message stored with `key` (0..255 bytes, "" none): a consumer ordered by
    // key (consume_options::ordered_by_key) hands the messages of one key to one member at a
    // time, in the order stored. Subscribers do not see the key. Throws
    // std::invalid_argument for a key over 255 bytes, and what publish() throws.
    template <class T>
    std::future<void> publish_stored(std::string_view topic, std::string_view key, const T& value) {
        static thread_local msgpack::sbuffer buffer(256);
        buffer.clear();
        pack_value(buffer, value);
        return publish_stored_packed(topic, key, {reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
    }
    std::future<void> publish_stored_packed(std::string_view topic, std::span<const std::uint8_t> msgpack_bytes) {
        return publish_stored_packed(topic, std::string_view(), msgpack_bytes);
    }
    std::future<void> publish_stored_packed(std::string_view topic, std::string_view key,
                                            std::span<const std::uint8_t> msgpack_bytes);
    // Consumes `stream` from every member that publishes it, as `consumer`: members of one
    // name share the work (each message goes to one of them at a time), and the publisher
    // keeps the name's position, so a consumer resumes where it was. `handler` runs on the
    // delivery thread (or with run_on::reactor on the reactor) and settles each message (ack,
    // nak, ...; unsettled past options.ack_wait, it is redelivered). Throws
    // std::invalid_argument for names outside 1..255 bytes, a name this node consumes
    // already, an empty handler or options outside PROTOCOL.md §14's bounds;
    // std::logic_error when not running.
    consumer_id consume(const std::string& stream, const std::string& consumer, stream_handler handler,
                        consume_options options = {}, run_on where = run_on::handler_thread);
    // Stops a consumer: what it holds unsettled goes to the other members of its name.
    void stop_consuming(consumer_id id);

    // Returns: every peer this node knows (connecting ones included), from the reactor's
    // table at the time of the call. Empty when not running.
    std::vector<peer_info> peers() const;
    // Returns: the counters at the time of the call; zeros when not running.
    node_stats stats() const;
    // Returns: this node's counters and the members it sees, in the Prometheus text format
    // (<zmesh/metrics.hpp>); what options::metrics_endpoint serves.
    std::string metrics() const;
    // Returns: the port options::metrics_endpoint is served on (0: not served, or not running).
    std::uint16_t metrics_port() const noexcept;

    // Waits until the mesh is as the application needs it before it calls or publishes:
    // a node that has just started knows no one yet, so a call() made at once fails with
    // no_provider and a publish() reaches no one. Each returns true as soon as it holds,
    // false when `timeout` passes first or the node is not running (or stops meanwhile); it
    // never blocks past `timeout`. The node tells the waiting thread when a peer joins,
    // leaves or states its services or subscriptions: it does not poll. Any thread but the
    // node's own reactor and delivery threads (its callbacks): from those it throws
    // std::logic_error, as the node could not change while it waits.
    // Joined means both ways: this node took the member's HELLO and the member took this
    // node's (its SUBS came), so a call or an event sent now is not dropped as a stranger's.
    // At least `n` members (not observers) have joined.
    bool wait_for_peers(std::size_t n, milliseconds timeout) const;
    // A joined member serves `method`: call(method, ...) then finds a provider.
    bool wait_for_provider(std::string_view method, milliseconds timeout) const;
    // At least `n` joined members subscribe to a prefix of `topic` and have told this node so
    // (their SUBS): an event published then reaches them. This node's own subscriptions are
    // not counted. The members learn that this node publishes `topic` (options::publishes),
    // so that those past options::link_everyone_below link it.
    bool wait_for_subscribers(std::string_view topic, std::size_t n, milliseconds timeout) const;

private:
    struct threads;

    template <class Command>
    void send_command(Command&& c) const;   // defined in node/node_threads.hpp
    // Waits until `holds` is true of a snapshot of peers() (node_waits.cpp).
    bool wait_for_view(const std::function<bool(const std::vector<peer_info>&)>& holds,
                       milliseconds timeout) const;
    // Arguments the typed call() packed: one msgpack object by construction, so they are not
    // checked again (the check would be a part of every call's cost). A broken adaptor
    // that packs two is still refused, by the server: rpc_bad_request.
    struct packed_args {
        std::span<const std::uint8_t> bytes;   // this thread's pack buffer: until the next pack
    };
    template <class T>
    static packed_args pack(const T& value) {
        // Packed into this thread's reused buffer, which start_call copies into the request
        // frame at once: a vector of their own cost the arguments an allocation and a copy.
        static thread_local pack_buffer scratch;
        if (scratch.capacity() > 64 * 1024) scratch.release();   // a big argument's room is not kept
        scratch.clear();
        pack_value(scratch, value);
        return {scratch.bytes()};
    }
    // Packs `value` into `buffer`; nullptr as nil, which msgpack-cxx has no adaptor for.
    template <class Buffer, class T>
    static void pack_value(Buffer& buffer, const T& value) {
        if constexpr (std::is_null_pointer_v<T>)
            msgpack::pack(buffer, msgpack::type::nil_t());
        else
            msgpack::pack(buffer, value);
    }
    std::future<reply> call_packed(std::optional<node_id> peer, std::string_view method,
                                   packed_args args, milliseconds timeout);
    std::future<reply> call_named_packed(std::string_view peer_name, std::string_view method, packed_args args,
                                         milliseconds timeout);
    void call_packed(std::optional<node_id> peer, std::string_view method, packed_args args,
                     milliseconds timeout, call_callback done, run_on where);
    // Checks the call, then hands it to the reactor; `done` is a promise or a callback.
    // `peer_name`, without `peer`: the call goes to a member of that name (call_named).
    void start_call(const std::optional<node_id>& peer, std::string_view method, bool args_checked,
                    std::span<const std::uint8_t> args, milliseconds timeout,
                    std::variant<std::promise<reply>, call_callback>&& done,
                    run_on where = run_on::handler_thread, std::string_view peer_name = {});
    // Checks the topic and the size, then hands both to the reactor.
    bool send_event(std::string_view topic, std::span<const std::uint8_t> payload);
    // Starts the RPC worker threads, the first time a method is served on them.
    void start_workers_once();

    options options_;
    node_id id_;
    std::string pub_endpoint_, router_endpoint_;
    std::function<void(const peer_event&)> peer_handler_;
    struct early_subscription {
        subscription_id id;
        std::string prefix;
        event_handler handler;
        run_on where;
    };
    std::vector<early_subscription> early_subs_;
    struct early_service {
        std::string method;
        rpc_handler handler;
        run_on where;
    };
    std::vector<early_service> early_services_;
    // The distinct prefixes subscribed, for the limit: subscribe() and unsubscribe() may
    // be called from any thread.
    struct prefix_counts;
    std::unique_ptr<prefix_counts> prefix_counts_;
    // What the threads count together (defined in node.cpp); the reactor and the delivery
    // thread hold it too.
    struct counters;
    std::shared_ptr<counters> counters_;
    std::unique_ptr<threads> threads_;
};

}  // namespace zmesh
