/* STARTTLS for the example server (see tls.h).
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef SMTPW_HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>

typedef struct tls_session {
    SSL_CTX *ctx;
    SSL *ssl;
    int active; /* the handshake finished: bytes go through TLS */
} tls_session;

int tls_available(void)
{
    return 1;
}

void *tls_server_new(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "TLS: cannot load certificate %s", cert);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "TLS: cannot load key %s (or it does not match)", key);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void tls_server_free(void *server)
{
    SSL_CTX_free((SSL_CTX *)server);
}

void *tls_session_new(void *server)
{
    tls_session *t = (tls_session *)calloc(1, sizeof *t);
    if (t)
        t->ctx = (SSL_CTX *)server;
    return t;
}

void tls_session_free(void *session)
{
    tls_session *t = (tls_session *)session;
    if (!t)
        return;
    if (t->ssl)
        SSL_free(t->ssl);
    free(t);
}

int tls_active(const void *session)
{
    return session && ((const tls_session *)session)->active;
}

/* Map an OpenSSL failure to the hook convention. */
static int tls_err(SSL *ssl, int r, unsigned *wait)
{
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
        *wait = SMTPW_WANT_READ;
        return SMTPW_E_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        *wait = SMTPW_WANT_WRITE;
        return SMTPW_E_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return SMTPW_E_CLOSED;
    default:
        ERR_clear_error();
        return SMTPW_E_TLS;
    }
}

static int h_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, unsigned *wait)
{
    tls_session *t = (tls_session *)ctx;
    int r;
    if (!t->active)
        return smtpw_posix_plain_read(ctx, fd, buf, cap, got, wait);
    *got = 0;
    r = SSL_read_ex(t->ssl, buf, cap, got);
    return r == 1 ? 0 : tls_err(t->ssl, r, wait);
}

static int h_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                   unsigned *wait)
{
    tls_session *t = (tls_session *)ctx;
    int r;
    if (!t->active)
        return smtpw_posix_plain_write(ctx, fd, buf, len, sent, wait);
    *sent = 0;
    r = SSL_write_ex(t->ssl, buf, len, sent);
    return r == 1 ? 0 : tls_err(t->ssl, r, wait);
}

static int h_starttls(void *ctx, int fd, unsigned *wait)
{
    tls_session *t = (tls_session *)ctx;
    int r;
    if (!t->ssl) {
        t->ssl = SSL_new(t->ctx);
        if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1)
            return SMTPW_E_TLS;
        SSL_set_accept_state(t->ssl);
    }
    r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->active = 1;
        return 0;
    }
    r = tls_err(t->ssl, r, wait);
    return r == SMTPW_E_AGAIN ? r : SMTPW_E_TLS;
}

static size_t h_pending(void *ctx)
{
    tls_session *t = (tls_session *)ctx;
    return t->active ? (size_t)SSL_pending(t->ssl) : 0;
}

static void h_close(void *ctx, int fd)
{
    tls_session *t = (tls_session *)ctx;
    if (t->ssl) {
        if (t->active)
            (void)SSL_shutdown(t->ssl); /* close_notify, best effort */
        SSL_free(t->ssl);
        t->ssl = NULL;
        t->active = 0;
    }
    (void)close(fd);
}

static const smtpw_posix_io tls_hooks = {h_read, h_write, h_starttls, h_pending, h_close};

const smtpw_posix_io *tls_io(void)
{
    return &tls_hooks;
}

#else /* no OpenSSL */

int tls_available(void)
{
    return 0;
}

void *tls_server_new(const char *cert, const char *key, char *err, size_t errlen)
{
    (void)cert;
    (void)key;
    snprintf(err, errlen, "built without OpenSSL: --tls-cert is not available");
    return NULL;
}

void tls_server_free(void *server)
{
    (void)server;
}

void *tls_session_new(void *server)
{
    (void)server;
    return NULL;
}

void tls_session_free(void *session)
{
    (void)session;
}

int tls_active(const void *session)
{
    (void)session;
    return 0;
}

const smtpw_posix_io *tls_io(void)
{
    return smtpw_posix_io_plain();
}

#endif
