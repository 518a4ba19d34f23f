// SPDX-License-Identifier: MPL-2.0
// handshake_failure: libzmq 4.3's handshake events and their values, mapped to causes.
#include "handshake_failure.hpp"

#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace zmesh::detail {

namespace {

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(v));
    return buf;
}

const char* protocol_error_name(std::uint32_t code) {
    switch (code) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED: return "unspecified";
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: return "unexpected command";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE: return "invalid sequence";
        case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: return "key exchange";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED: return "malformed command";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE: return "malformed MESSAGE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO: return "malformed HELLO";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE: return "malformed INITIATE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR: return "malformed ERROR";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY: return "malformed READY";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME: return "malformed WELCOME";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA: return "invalid metadata";
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: return "cryptographic: a CURVE box did not open";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: return "mechanism mismatch";
        case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED: return "ZAP unspecified";
        case ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY: return "ZAP malformed reply";
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID: return "ZAP bad request id";
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION: return "ZAP bad version";
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE: return "ZAP invalid status code";
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA: return "ZAP invalid metadata";
        default: return "unknown";
    }
}

// libzmq raises NO_DETAIL when a connection ends before its handshake completed, for one of
// two reasons (stream_engine_base_t::error): a read failed (connection_error, errno that
// read's), or its handshake timer expired (timeout_error, errno whatever the I/O thread last
// left: no call failed). So the errnos a read of a TCP socket gives are a connection that
// ended, and anything else is a timeout.
handshake_failure no_detail(int err, bool secured) {
    const std::string errno_text = " (errno " + std::to_string(err) + ": " +
                                   std::generic_category().message(err) + ")";
    const char* what = nullptr;
    switch (err) {
        case EPIPE: what = "the peer closed the connection mid-handshake"; break;   // read 0 bytes
        case ECONNRESET:
        case ECONNABORTED: what = "the connection was reset mid-handshake"; break;
        case ETIMEDOUT:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case ENETDOWN:
        case ECONNREFUSED:
        case ENOTCONN: what = "the connection failed mid-handshake"; break;
        default:
            return {handshake_cause::timeout, log_level::info,
                    "timed out: no complete handshake in time" + errno_text, 0};
    }
    // A peer that went away does this, and liveness reports that. A secured peer also closes
    // a connection whose first message does not decrypt with its key: without a hint, a seed
    // named with a wrong key would fail in silence.
    if (!secured) return {handshake_cause::closed, log_level::debug, what + errno_text, 0};
    return {handshake_cause::closed, log_level::info,
            what + errno_text + "; if this repeats, the peer may not hold the key we dialled", 0};
}

handshake_failure protocol(std::uint32_t code, bool secured) {
    const std::string error = "ZMTP protocol error " + hex(code) + ": " + protocol_error_name(code);
    if (code == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return {handshake_cause::protocol, log_level::warn,
                std::string(secured ? "the peer is not secured and this node is"
                                    : "the peer is secured and this node is not") +
                    " (" + error + ")",
                code};
    return {handshake_cause::protocol, log_level::warn, error, code};
}

handshake_failure auth(std::uint32_t status, bool secured) {
    const std::string zap = " (ZAP status " + std::to_string(status) + ")";
    if (status == 300)
        return {handshake_cause::auth, log_level::info, "the peer's authentication failed for now" + zap, status};
    if (secured && status == 400)
        return {handshake_cause::auth, log_level::warn,
                "key not allowed: the peer's allowlist does not hold our key" + zap, status};
    return {handshake_cause::auth, log_level::warn, "the peer's authentication refused us" + zap, status};
}

}  // namespace

std::optional<handshake_failure> describe_handshake_failure(std::uint16_t kind, std::uint32_t value,
                                                            bool secured) {
    switch (kind) {
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return no_detail(static_cast<int>(value), secured);
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return protocol(value, secured);
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return auth(value, secured);
        default: return std::nullopt;
    }
}

}  // namespace zmesh::detail
