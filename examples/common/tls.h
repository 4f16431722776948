/* STARTTLS for the example server and sender: OpenSSL under the adapter's
 * I/O hooks (RFC 3207).  Without OpenSSL the functions exist but refuse.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_TLS_H
#define SMTPWIRE_EXAMPLE_TLS_H

#include <stddef.h>

#include <smtpwire/posix.h>

/* Non-zero when built with OpenSSL. */
int tls_available(void);

/* A server context from a PEM certificate chain and key; NULL with a
 * message in err on failure (or without OpenSSL). */
void *tls_server_new(const char *cert, const char *key, char *err, size_t errlen);
void tls_server_free(void *server);

/* Per-connection hook state: plain until the STARTTLS handshake, TLS after.
 * The hooks' close frees the TLS state but not the session object. */
void *tls_session_new(void *server);
void tls_session_free(void *session);
int tls_active(const void *session);

/* The hook table to pass with a tls_session as io_ctx (either role). */
const smtpw_posix_io *tls_io(void);

/* A client context.  verify: check the server's chain and its host name
 * or IP (set by tls_session_set_host; a handshake without one fails)
 * against the PEM CA certificates in cafile, or with cafile NULL the
 * system's default store (which honours SSL_CERT_FILE/SSL_CERT_DIR).
 * verify 0: no verification at all, cafile ignored (RFC 7435
 * opportunistic security).  NULL with a message in err on failure (or
 * without OpenSSL). */
void *tls_client_new(int verify, const char *cafile, char *err, size_t errlen);
void tls_client_free(void *client);

/* Per-connection client hook state; reusable for the next connection
 * once the close hook ran.  Free with tls_session_free(). */
void *tls_client_session_new(void *client);

/* The server's name (or IP address) for the next handshake: sent as SNI
 * when a name, and checked against the certificate when verifying.
 * Returns 0, or -1 when too long (the name is then cleared, so a verified
 * handshake fails rather than check a previous name). */
int tls_session_set_host(void *session, const char *host);

/* "TLSv1.3, TLS_AES_256_GCM_SHA384" for an active session, into buf. */
const char *tls_session_describe(const void *session, char *buf, size_t len);

/* Why the last handshake failed ("" when it did not). */
const char *tls_session_error(const void *session);

#endif
