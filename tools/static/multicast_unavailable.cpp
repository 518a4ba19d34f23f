// SPDX-License-Identifier: MPL-2.0
// The OpenPGM and NORM entry points libzmq's archive names, for the tools linked fully
// static (cmake/static_tools.cmake): as if no multicast transport could ever start.
//
// Why: Debian's libzmq is built with the epgm:// and norm:// multicast transports, so its
// archive pulls in all of OpenPGM and NORM (with NORM's Protokit): 0.7 MB of code that
// a static tool would map, and whose pages the kernel keeps resident in every node of a mesh
// (it maps the pages around each one touched). zmesh speaks tcp:// only — its endpoints are
// validated as such (protocol/endpoint.hpp), and libzmq calls none of these but OpenPGM's start
// and stop before a socket binds or connects a multicast endpoint.
#include <cerrno>

#include <normApi.h>
#include <pgm/pgm.h>

namespace {
// The one error the OpenPGM entry points below give.
pgm_error_t no_device{PGM_ERROR_DOMAIN_IF, PGM_ERROR_NODEV, const_cast<char*>("no multicast here")};

bool fail(pgm_error_t** error) {
    if (error != nullptr) *error = &no_device;
    return false;
}

}  // namespace

extern "C" {

// ---- NORM (libzmq's norm_engine.cpp): "invalid" handles, false, nothing read or written.
// libzmq creates an instance only when a norm:// endpoint is bound or connected, and aborts
// when it cannot, as it would with the real library on a host without multicast.
const NormInstanceHandle NORM_INSTANCE_INVALID = nullptr;
const NormSessionHandle NORM_SESSION_INVALID = nullptr;
const NormObjectHandle NORM_OBJECT_INVALID = nullptr;
const NormNodeId NORM_NODE_ANY = 0xffffffff;

NormInstanceHandle NormCreateInstance(bool) {
    errno = ENODEV;
    return NORM_INSTANCE_INVALID;
}
NormSessionHandle NormCreateSession(NormInstanceHandle, const char*, UINT16, NormNodeId) {
    return NORM_SESSION_INVALID;
}
void NormDestroyInstance(NormInstanceHandle) {}
void NormDestroySession(NormSessionHandle) {}
NormDescriptor NormGetDescriptor(NormInstanceHandle) { return -1; }
bool NormGetNextEvent(NormInstanceHandle, NormEvent*, bool) { return false; }
NormSessionId NormGetRandomSessionId() { return 0; }
bool NormIsUnicastAddress(const char*) { return false; }
void NormNodeDelete(NormNodeHandle) {}
NormObjectType NormObjectGetType(NormObjectHandle) { return NORM_OBJECT_NONE; }
const void* NormObjectGetUserData(NormObjectHandle) { return nullptr; }
void NormObjectSetUserData(NormObjectHandle, const void*) {}
void NormSetCongestionControl(NormSessionHandle, bool, bool) {}
void NormSetDefaultSyncPolicy(NormSessionHandle, NormSyncPolicy) {}
void NormSetDefaultUnicastNack(NormSessionHandle, bool) {}
bool NormSetLoopback(NormSessionHandle, bool) { return false; }
bool NormSetMulticastInterface(NormSessionHandle, const char*) { return false; }
void NormSetRxPortReuse(NormSessionHandle, bool, const char*, const char*, UINT16) {}
bool NormSetTTL(NormSessionHandle, unsigned char) { return false; }
bool NormStartReceiver(NormSessionHandle, UINT32) { return false; }
bool NormStartSender(NormSessionHandle, NormSessionId, UINT32, UINT16, UINT16, UINT16, UINT8) {
    return false;
}
void NormStopInstance(NormInstanceHandle) {}
void NormStopReceiver(NormSessionHandle) {}
void NormStopSender(NormSessionHandle) {}
void NormStreamFlush(NormObjectHandle, bool, NormFlushMode) {}
NormObjectHandle NormStreamOpen(NormSessionHandle, UINT32, const char*, unsigned int) {
    return NORM_OBJECT_INVALID;
}
bool NormStreamRead(NormObjectHandle, char*, unsigned int* bytes) {
    if (bytes != nullptr) *bytes = 0;
    return false;
}
bool NormStreamSeekMsgStart(NormObjectHandle) { return false; }
unsigned int NormStreamWrite(NormObjectHandle, const char*, unsigned int) { return 0; }

// ---- OpenPGM (libzmq's ip.cpp and pgm_socket.cpp). libzmq starts and stops OpenPGM with
// every context, so those two succeed. Everything else fails with "no such device", which
// libzmq turns into EINVAL from the zmq_bind or zmq_connect of an epgm:// endpoint (it
// asserts on a failure that carries no error object).
bool pgm_init(pgm_error_t**) { return true; }
bool pgm_shutdown() { return true; }
bool pgm_getaddrinfo(const char*, const struct pgm_addrinfo_t*, struct pgm_addrinfo_t** result,
                     pgm_error_t** error) {
    if (result != nullptr) *result = nullptr;
    return fail(error);
}
void pgm_freeaddrinfo(struct pgm_addrinfo_t*) {}
bool pgm_socket(pgm_sock_t** sock, const sa_family_t, const int, const int, pgm_error_t** error) {
    if (sock != nullptr) *sock = nullptr;
    return fail(error);
}
bool pgm_bind3(pgm_sock_t*, const struct pgm_sockaddr_t*, const socklen_t,
               const struct pgm_interface_req_t*, const socklen_t,
               const struct pgm_interface_req_t*, const socklen_t, pgm_error_t** error) {
    return fail(error);
}
bool pgm_connect(pgm_sock_t*, pgm_error_t** error) { return fail(error); }
bool pgm_close(pgm_sock_t*, bool) { return false; }
bool pgm_getsockopt(pgm_sock_t*, const int, const int, void*, socklen_t*) { return false; }
bool pgm_setsockopt(pgm_sock_t*, const int, const int, const void*, const socklen_t) {
    return false;
}
bool pgm_gsi_create_from_data(pgm_gsi_t*, const uint8_t*, const size_t) { return false; }
int pgm_recvmsgv(pgm_sock_t*, struct pgm_msgv_t*, const size_t, const int, size_t* bytes,
                 pgm_error_t** error) {
    if (bytes != nullptr) *bytes = 0;
    (void)fail(error);
    return PGM_IO_STATUS_ERROR;
}
int pgm_send(pgm_sock_t*, const void*, const size_t, size_t* bytes) {
    if (bytes != nullptr) *bytes = 0;
    return PGM_IO_STATUS_ERROR;
}
void pgm_error_free(pgm_error_t*) {}   // only ever no_device, which is static
void pgm_free(void*) {}

}  // extern "C"
