// SPDX-License-Identifier: MPL-2.0
// The GSSAPI entry points libzmq's archive names, for the tools linked fully static
// (cmake/static_tools.cmake). Each says "unavailable" and does nothing.
//
// Why: Debian's libzmq is built with its GSSAPI mechanism, and Kerberos ships no archive, so
// a static tool had to stay dynamic for libgssapi_krb5 alone: ld.so, libc, libm and eight
// Kerberos libraries loaded and relocated at every start, and their touched pages resident
// in every node of a mesh. zmesh never enables GSSAPI (it sets no ZMQ_GSSAPI_* option, and
// libzmq refuses a peer whose greeting names another mechanism before any of these is
// reached), so nothing calls them; should anything ever, a GSSAPI handshake fails cleanly.
#include <gssapi/gssapi.h>

namespace {
OM_uint32 unavailable(OM_uint32* minor_status) {
  if (minor_status != nullptr) *minor_status = 0;
  return GSS_S_UNAVAILABLE;
}
}  // namespace

extern "C" {
gss_OID GSS_C_NT_HOSTBASED_SERVICE = GSS_C_NO_OID;
gss_OID GSS_C_NT_USER_NAME = GSS_C_NO_OID;

OM_uint32 gss_acquire_cred(OM_uint32* minor, gss_name_t, OM_uint32, gss_OID_set,
                           gss_cred_usage_t, gss_cred_id_t*, gss_OID_set*, OM_uint32*) {
  return unavailable(minor);
}
OM_uint32 gss_release_cred(OM_uint32* minor, gss_cred_id_t*) { return unavailable(minor); }
OM_uint32 gss_init_sec_context(OM_uint32* minor, gss_cred_id_t, gss_ctx_id_t*, gss_name_t,
                               gss_OID, OM_uint32, OM_uint32, gss_channel_bindings_t,
                               gss_buffer_t, gss_OID*, gss_buffer_t, OM_uint32*, OM_uint32*) {
  return unavailable(minor);
}
OM_uint32 gss_accept_sec_context(OM_uint32* minor, gss_ctx_id_t*, gss_cred_id_t, gss_buffer_t,
                                 gss_channel_bindings_t, gss_name_t*, gss_OID*, gss_buffer_t,
                                 OM_uint32*, OM_uint32*, gss_cred_id_t*) {
  return unavailable(minor);
}
OM_uint32 gss_delete_sec_context(OM_uint32* minor, gss_ctx_id_t*, gss_buffer_t) {
  return unavailable(minor);
}
OM_uint32 gss_wrap(OM_uint32* minor, gss_ctx_id_t, int, gss_qop_t, gss_buffer_t, int*,
                   gss_buffer_t) {
  return unavailable(minor);
}
OM_uint32 gss_unwrap(OM_uint32* minor, gss_ctx_id_t, gss_buffer_t, gss_buffer_t, int*,
                     gss_qop_t*) {
  return unavailable(minor);
}
OM_uint32 gss_display_name(OM_uint32* minor, gss_name_t, gss_buffer_t, gss_OID*) {
  return unavailable(minor);
}
OM_uint32 gss_import_name(OM_uint32* minor, gss_buffer_t, gss_OID, gss_name_t*) {
  return unavailable(minor);
}
OM_uint32 gss_release_name(OM_uint32* minor, gss_name_t*) { return unavailable(minor); }
OM_uint32 gss_release_buffer(OM_uint32* minor, gss_buffer_t) { return unavailable(minor); }
}
