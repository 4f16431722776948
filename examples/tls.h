/* STARTTLS for the example server: OpenSSL under the adapter's I/O hooks
 * (RFC 3207).  Without OpenSSL the functions exist but refuse.
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

/* The hook table to pass with a tls_session as io_ctx. */
const smtpw_posix_io *tls_io(void);

#endif
