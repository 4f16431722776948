/* STARTTLS for the example server and sender (see tls.h).
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SMTPW_HAVE_OPENSSL
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

typedef struct tls_client {
    SSL_CTX *ctx;
    int verify; /* check chain and name (RFC 6125) */
} tls_client;

typedef struct tls_session {
    SSL_CTX *ctx;
    SSL *ssl;
    int active; /* the handshake finished: bytes go through TLS */
    int client; /* connect side (smtpwire-send) */
    int verify;
    char host[256];
    char err[320];
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
static int tls_err(SSL *ssl, int r, uint32_t *wait)
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

static int h_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, uint32_t *wait)
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
                   uint32_t *wait)
{
    tls_session *t = (tls_session *)ctx;
    int r;
    if (!t->active)
        return smtpw_posix_plain_write(ctx, fd, buf, len, sent, wait);
    *sent = 0;
    r = SSL_write_ex(t->ssl, buf, len, sent);
    return r == 1 ? 0 : tls_err(t->ssl, r, wait);
}

static int is_ip(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Client role: SNI for names, and with a CA file the peer's chain and its
 * name or address (RFC 6125) are checked during the handshake. */
static int client_setup(tls_session *t)
{
    SSL_set_connect_state(t->ssl);
    if (t->host[0] && !is_ip(t->host) &&
        SSL_set_tlsext_host_name(t->ssl, t->host) != 1)
        return -1;
    if (!t->verify)
        return 0;
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
    if (!t->host[0])
        return -1; /* a chain that names nobody proves nothing: fail closed */
    if (is_ip(t->host))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->host) == 1 ? 0 : -1;
    SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(t->ssl, t->host) == 1 ? 0 : -1;
}

/* Say why a handshake failed, before the error queue is cleared. */
static void note_failure(tls_session *t, int r)
{
    unsigned long e = ERR_peek_last_error();
    long v = t->verify ? SSL_get_verify_result(t->ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(t->err, sizeof t->err, "certificate verification failed: %s",
                 X509_verify_cert_error_string(v));
    else if (e)
        ERR_error_string_n(e, t->err, sizeof t->err);
    else if (SSL_get_error(t->ssl, r) == SSL_ERROR_SYSCALL || r == 0)
        snprintf(t->err, sizeof t->err, "the peer closed the connection during the handshake");
    else
        snprintf(t->err, sizeof t->err, "handshake failed");
}

static int h_starttls(void *ctx, int fd, uint32_t *wait)
{
    tls_session *t = (tls_session *)ctx;
    int r;
    if (!t->ssl) {
        t->err[0] = '\0';
        t->ssl = SSL_new(t->ctx);
        if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
            snprintf(t->err, sizeof t->err, "cannot set up TLS");
            return SMTPW_E_TLS;
        }
        if (!t->client)
            SSL_set_accept_state(t->ssl);
        else if (client_setup(t) != 0) {
            snprintf(t->err, sizeof t->err, "cannot set the server name \"%s\"", t->host);
            return SMTPW_E_TLS;
        }
    }
    r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->active = 1;
        return 0;
    }
    {
        int k = SSL_get_error(t->ssl, r);
        if (k != SSL_ERROR_WANT_READ && k != SSL_ERROR_WANT_WRITE)
            note_failure(t, r);
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

static const smtpw_posix_io tls_hooks = {SMTPW_POSIX_IO_VERSION, h_read, h_write, h_starttls, h_pending, h_close};

const smtpw_posix_io *tls_io(void)
{
    return &tls_hooks;
}

void *tls_client_new(int verify, const char *cafile, char *err, size_t errlen)
{
    tls_client *c = (tls_client *)calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        snprintf(err, errlen, "TLS: cannot create a context");
        free(c);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (verify) {
        /* the default paths honour SSL_CERT_FILE and SSL_CERT_DIR */
        int ok = cafile ? SSL_CTX_load_verify_locations(c->ctx, cafile, NULL)
                        : SSL_CTX_set_default_verify_paths(c->ctx);
        if (ok != 1) {
            if (cafile)
                snprintf(err, errlen, "TLS: cannot load CA certificates from %s", cafile);
            else
                snprintf(err, errlen, "TLS: cannot load the system's CA certificates");
            SSL_CTX_free(c->ctx);
            free(c);
            return NULL;
        }
        c->verify = 1;
    }
    return c;
}

void tls_client_free(void *client)
{
    tls_client *c = (tls_client *)client;
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

void *tls_client_session_new(void *client)
{
    tls_client *c = (tls_client *)client;
    tls_session *t;
    if (!c)
        return NULL;
    t = (tls_session *)calloc(1, sizeof *t);
    if (t) {
        t->ctx = c->ctx;
        t->client = 1;
        t->verify = c->verify;
    }
    return t;
}

int tls_session_set_host(void *session, const char *host)
{
    tls_session *t = (tls_session *)session;
    size_t n = host ? strlen(host) : 0;
    if (!t)
        return -1;
    if (n >= sizeof t->host) {
        t->host[0] = '\0'; /* never keep the previous name: verifying fails */
        return -1;
    }
    memcpy(t->host, host ? host : "", n);
    t->host[n] = '\0';
    return 0;
}

const char *tls_session_describe(const void *session, char *buf, size_t len)
{
    const tls_session *t = (const tls_session *)session;
    if (!t || !t->active || !t->ssl)
        snprintf(buf, len, "no TLS");
    else
        snprintf(buf, len, "%s, %s", SSL_get_version(t->ssl),
                 SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl)));
    return buf;
}

const char *tls_session_error(const void *session)
{
    const tls_session *t = (const tls_session *)session;
    return t ? t->err : "";
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

void *tls_client_new(int verify, const char *cafile, char *err, size_t errlen)
{
    (void)verify;
    (void)cafile;
    snprintf(err, errlen, "built without OpenSSL: STARTTLS is not available");
    return NULL;
}

void tls_client_free(void *client)
{
    (void)client;
}

void *tls_client_session_new(void *client)
{
    (void)client;
    return NULL;
}

int tls_session_set_host(void *session, const char *host)
{
    (void)session;
    (void)host;
    return -1;
}

const char *tls_session_describe(const void *session, char *buf, size_t len)
{
    (void)session;
    snprintf(buf, len, "no TLS");
    return buf;
}

const char *tls_session_error(const void *session)
{
    (void)session;
    return "built without OpenSSL";
}

#endif
