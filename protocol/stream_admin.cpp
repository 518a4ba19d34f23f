// SPDX-License-Identifier: MPL-2.0
// stream_admin: the reserved methods' argument maps read in place, and their replies packed.
#include "stream_admin.hpp"

#include "msgpack_io.hpp"

#include <array>
#include <functional>

namespace zmesh::protocol::admin {

namespace {

using field_handler = std::function<std::optional<std::string>(std::string_view key, span_reader& r,
                                                               std::span<const std::uint8_t> bytes)>;

// Keys a map of arguments may hold: more is not an argument list but an attack on the reader.
constexpr std::uint64_t max_keys = 64;
constexpr std::size_t max_key_len = 64;
constexpr std::size_t max_error_len = 512;

// Reads the map of `args`, handing each key's value to `field`, which reads it (or skips it).
// A lone nil is no arguments when `nil_ok`. Returns: the reason the arguments are bad, or
// nothing.
std::optional<std::string> read_map(std::span<const std::uint8_t> args, bool nil_ok, const field_handler& field) {
    if (args.size() == 1 && args[0] == 0xc0 && nil_ok) return std::nullopt;
    if (args.empty()) return "arguments must be a map";
    std::uint64_t pairs = 0;
    std::size_t at = 0;
    const auto tag = args[0];
    if ((tag & 0xf0) == 0x80) {
        pairs = tag & 0x0f;
        at = 1;
    } else if ((tag == 0xde && args.size() >= 3) || (tag == 0xdf && args.size() >= 5)) {
        const std::size_t width = tag == 0xde ? 2 : 4;
        pairs = read_big_endian(&args[1], width);
        at = 1 + width;
    } else {
        return "arguments must be a map";
    }
    if (pairs > max_keys) return "arguments hold more than " + std::to_string(max_keys) + " keys";
    const auto body = args.subspan(at);
    span_reader r(body);
    for (std::uint64_t i = 0; i < pairs; ++i) {
        std::string_view key;
        if (r.str(key, max_key_len)) return "a key is not a str of at most 64 bytes";
        if (auto why = field(key, r, body)) return why;
    }
    if (!r.at_end()) return "arguments are not one map";
    return std::nullopt;
}

std::optional<std::string> skip(span_reader& r) {
    if (r.skip(1, max_skip_depth)) return "a value is malformed";
    return std::nullopt;
}

// Returns: `key` as an error names it, in single quotes.
std::string quoted(std::string_view key) { return std::string(1, '\'').append(key).append(1, '\''); }

// A str of min..max bytes without NUL.
std::optional<std::string> name_field(span_reader& r, std::string_view key, std::string& out, std::size_t min,
                                      std::size_t max) {
    std::string_view v;
    const std::string what = quoted(key);
    if (const auto e = r.str(v, max))
        return *e == errc::oversized ? what + " is over " + std::to_string(max) + " bytes" : what + " must be a str";
    if (v.size() < min) return what + " must not be empty";
    if (v.find('\0') != std::string_view::npos) return what + " must not hold NUL";
    out = v;
    return std::nullopt;
}

std::optional<std::string> uint_field(span_reader& r, std::string_view key, std::uint64_t& out) {
    if (r.uint(out)) return quoted(key) + " must be an unsigned integer";
    return std::nullopt;
}

std::optional<std::string> missing(std::string_view key) { return quoted(key) + " is missing"; }

template <class T>
parsed<T> done(std::optional<std::string> why, T&& value) {
    if (why) return error{bad_arguments, std::move(*why)};
    return std::move(value);
}

std::optional<std::string> stream_name(span_reader& r, std::string_view key, std::string& out) {
    return name_field(r, key, out, 1, max_name_len);
}

}  // namespace

bool is_reserved(std::string_view m) noexcept {
    return m == list_method || m == add_method || m == rm_method || m == publish_method || m == dlq_ls_method ||
           m == dlq_requeue_method;
}

bool is_write(std::string_view m) noexcept {
    return m == add_method || m == rm_method || m == publish_method || m == dlq_requeue_method;
}

parsed<list_args> decode_list(std::span<const std::uint8_t> args) {
    list_args a;
    auto why = read_map(args, true, [&](std::string_view key, span_reader& r, auto) -> std::optional<std::string> {
        if (key == "stream") return stream_name(r, key, a.stream);
        if (key == "after") return stream_name(r, key, a.after);
        return skip(r);
    });
    return done(std::move(why), std::move(a));
}

parsed<add_args> decode_add(std::span<const std::uint8_t> args) {
    add_args a;
    auto why = read_map(args, false, [&](std::string_view key, span_reader& r, auto) -> std::optional<std::string> {
        if (key == "name") return stream_name(r, key, a.name);
        if (key == "prefix") return name_field(r, key, a.prefix, 1, max_name_len);
        if (key == "max_messages") return uint_field(r, key, a.max_messages);
        if (key == "max_bytes") return uint_field(r, key, a.max_bytes);
        if (key == "max_age_ms") return uint_field(r, key, a.max_age_ms);
        return skip(r);
    });
    if (!why && a.name.empty()) why = missing("name");
    if (!why && a.prefix.empty()) why = missing("prefix");
    if (!why && a.name.ends_with(".dlq")) why = "names ending in .dlq are the dead letters' own";
    if (!why && (a.max_messages > INT64_MAX || a.max_bytes > INT64_MAX)) why = "a limit is over 2^63 - 1";
    if (!why && a.max_age_ms > max_age_ms) why = "'max_age_ms' is over a century";
    return done(std::move(why), std::move(a));
}

parsed<name_args> decode_rm(std::span<const std::uint8_t> args) {
    name_args a;
    auto why = read_map(args, false, [&](std::string_view key, span_reader& r, auto) -> std::optional<std::string> {
        if (key == "name") return stream_name(r, key, a.name);
        return skip(r);
    });
    if (!why && a.name.empty()) why = missing("name");
    return done(std::move(why), std::move(a));
}

parsed<publish_args> decode_publish(std::span<const std::uint8_t> args, std::size_t max_payload) {
    publish_args a;
    bool has_payload = false;
    auto why = read_map(args, false, [&](std::string_view key, span_reader& r,
                                         std::span<const std::uint8_t> body) -> std::optional<std::string> {
        if (key == "topic") return name_field(r, key, a.topic, 1, max_name_len);
        if (key == "key") return name_field(r, key, a.key, 0, max_name_len);
        if (key != "payload") return skip(r);
        const auto start = r.position();
        if (auto e = skip(r)) return e;
        a.payload = body.subspan(start, r.position() - start);
        has_payload = true;
        if (a.payload.size() > max_payload)
            return "'payload' is over this node's max_event_size (" + std::to_string(max_payload) + " bytes)";
        return std::nullopt;
    });
    if (!why && a.topic.empty()) why = missing("topic");
    if (!why && !has_payload) why = missing("payload");
    return done(std::move(why), std::move(a));
}

parsed<dlq_ls_args> decode_dlq_ls(std::span<const std::uint8_t> args) {
    dlq_ls_args a;
    auto why = read_map(args, false, [&](std::string_view key, span_reader& r, auto) -> std::optional<std::string> {
        if (key == "stream") return stream_name(r, key, a.stream);
        if (key == "from") return uint_field(r, key, a.from);
        if (key == "max") return uint_field(r, key, a.max);
        return skip(r);
    });
    if (!why && a.stream.empty()) why = missing("stream");
    if (!why && (a.max == 0 || a.max > max_page)) why = "'max' must be 1.." + std::to_string(max_page);
    if (!why && a.from > INT64_MAX) why = "'from' is over 2^63 - 1";
    return done(std::move(why), std::move(a));
}

parsed<requeue_args> decode_requeue(std::span<const std::uint8_t> args) {
    requeue_args a;
    bool has_seq = false;
    auto why = read_map(args, false, [&](std::string_view key, span_reader& r,
                                         std::span<const std::uint8_t> body) -> std::optional<std::string> {
        if (key == "stream") return stream_name(r, key, a.stream);
        if (key == "seq") {
            has_seq = true;
            return uint_field(r, key, a.seq);
        }
        if (key != "all") return skip(r);
        const auto at = r.position();
        if (at >= body.size() || (body[at] != 0xc2 && body[at] != 0xc3)) return std::string("'all' must be a bool");
        a.all = body[at] == 0xc3;
        return skip(r);
    });
    if (!why && a.stream.empty()) why = missing("stream");
    if (!why && a.all == has_seq) why = "give 'seq' (1..) or 'all': true, not both";
    if (!why && has_seq && (a.seq == 0 || a.seq > INT64_MAX)) why = "'seq' must be 1..2^63 - 1";
    return done(std::move(why), std::move(a));
}

result<dead_letter_body> decode_dead_letter(std::span<const std::uint8_t> record) {
    dead_letter_body d;
    bool has_payload = false;
    const auto why = read_map(record, false, [&](std::string_view key, span_reader& r, auto) -> std::optional<std::string> {
        if (key == "stream") return name_field(r, key, d.stream, 0, max_name_len);
        if (key == "seq") return uint_field(r, key, d.seq);
        if (key == "attempts") return uint_field(r, key, d.attempts);
        if (key == "error") {
            std::string_view e;
            if (r.str(e, 64 * 1024)) return std::string("bad error");
            d.error = e.substr(0, max_error_len);
            return std::nullopt;
        }
        if (key != "payload") return skip(r);
        has_payload = true;
        if (r.bin(d.payload, SIZE_MAX)) return std::string("bad payload");
        return std::nullopt;
    });
    if (why || !has_payload || d.seq == 0) return errc::wrong_type;
    return d;
}

namespace {

// One entry of a reply's map: its key, and a str or an unsigned integer.
struct field {
    field(const char* k, std::uint64_t v) : key(k), number(v) {}
    field(const char* k, const std::string& v) : key(k), text(&v) {}
    const char* key;
    std::uint64_t number = 0;
    const std::string* text = nullptr;
};

// Packs a map of `fields` and of `then` more entries, which the caller packs after these: the
// map's size is counted, never written by hand.
template <class Packer>
void pack_fields(Packer& p, std::initializer_list<field> fields, std::uint32_t then = 0) {
    p.pack_map(static_cast<std::uint32_t>(fields.size()) + then);
    for (const auto& f : fields) {
        p.pack(f.key);
        f.text ? p.pack(*f.text) : p.pack(f.number);
    }
}

template <class Packer>
void pack_stream_to(Packer& p, const stream_report& s) {
    pack_fields(p,
                {{"name", s.name}, {"prefix", s.prefix}, {"max_messages", s.max_messages},
                 {"max_bytes", s.max_bytes}, {"max_age_ms", s.max_age_ms}, {"first_seq", s.first_seq},
                 {"last_seq", s.last_seq}, {"messages", s.messages}, {"bytes", s.bytes}},
                2);   // then "consumers" and "dlq"
    p.pack("consumers");
    p.pack_array(static_cast<std::uint32_t>(s.consumers.size()));
    for (const auto& c : s.consumers)
        pack_fields(p, {{"name", c.name}, {"members", c.members}, {"position", c.position}, {"pending", c.pending},
                        {"in_flight", c.in_flight}, {"redeliveries", c.redeliveries}, {"dead_letters", c.dead_letters}});
    // What a stream's own dead letters are is told by listing "<name>.dlq": not repeated here.
    p.pack("dlq");
    p.pack(s.name + ".dlq");
}

template <class Buffer>
void pack_dead_letter_to(Buffer& b, const dead_letter_report& d) {
    msgpack::packer<Buffer> p(b);
    pack_fields(p,
                {{"seq", d.seq}, {"original_seq", d.original_seq}, {"attempts", d.attempts}, {"error", d.error},
                 {"stored_us", d.stored_us}, {"key", d.key}},
                1);   // then "payload"
    p.pack("payload");
    if (d.payload.empty())
        p.pack_nil();
    else   // one msgpack object, checked when it was published: inserted as it is
        b.write(reinterpret_cast<const char*>(d.payload.data()), d.payload.size());
}

std::vector<std::uint8_t> bytes_of(const msgpack::sbuffer& b) {
    return {reinterpret_cast<const std::uint8_t*>(b.data()), reinterpret_cast<const std::uint8_t*>(b.data()) + b.size()};
}

}  // namespace

void pack_stream(msgpack::packer<msgpack::sbuffer>& p, const stream_report& s) { pack_stream_to(p, s); }

std::size_t packed_size(const stream_report& s) {
    size_counter c;
    msgpack::packer<size_counter> p(c);
    pack_stream_to(p, s);
    return c.size;
}

std::size_t packed_size(const dead_letter_report& d) {
    size_counter c;
    pack_dead_letter_to(c, d);
    return c.size;
}

std::vector<std::uint8_t> encode_list(const std::vector<stream_report>& streams, const std::string& more) {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> p(b);
    p.pack_map(2);
    p.pack("streams");
    p.pack_array(static_cast<std::uint32_t>(streams.size()));
    for (const auto& s : streams) pack_stream_to(p, s);
    p.pack("more");
    more.empty() ? p.pack_nil() : p.pack(more);
    return bytes_of(b);
}

std::vector<std::uint8_t> encode_dlq_page(const std::string& stream, std::uint64_t first_seq, std::uint64_t last_seq,
                                          std::uint64_t messages, const std::vector<dead_letter_report>& page,
                                          std::optional<std::uint64_t> more) {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> p(b);
    pack_fields(p, {{"stream", stream}, {"first_seq", first_seq}, {"last_seq", last_seq}, {"messages", messages}},
                2);   // then "dead_letters" and "more"
    p.pack("dead_letters");
    p.pack_array(static_cast<std::uint32_t>(page.size()));
    for (const auto& d : page) pack_dead_letter_to(b, d);
    p.pack("more");
    more ? p.pack(*more) : p.pack_nil();
    return bytes_of(b);
}

std::vector<std::uint8_t> encode_counts(std::initializer_list<std::pair<const char*, std::uint64_t>> counts) {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> p(b);
    p.pack_map(static_cast<std::uint32_t>(counts.size()));
    for (const auto& [key, value] : counts) {
        p.pack(key);
        p.pack(value);
    }
    return bytes_of(b);
}

}  // namespace zmesh::protocol::admin
