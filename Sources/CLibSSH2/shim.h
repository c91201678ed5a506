// The only place Tasker includes libssh2.h. libssh2's function-like macros do
// not import into Swift; the few Tasker needs are wrapped here, together with
// the socket receive hook that counts inbound bytes and re-arms TCP_QUICKACK.
#ifndef TASKER_LIBSSH2_SHIM_H
#define TASKER_LIBSSH2_SHIM_H

#include <libssh2.h>
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

/// Per-session counters reached through libssh2's session abstract pointer.
typedef struct tasker_session_io {
    uint64_t bytes_received;
    uint64_t bytes_sent;
} tasker_session_io;

static inline ssize_t tasker_recv(libssh2_socket_t fd, void *buffer, size_t length,
                                  int flags, void **abstract) {
    ssize_t n = recv(fd, buffer, length, flags);
    if (n < 0) return -errno;
    if (n > 0) {
        ((tasker_session_io *)*abstract)->bytes_received += (uint64_t)n;
        // Linux clears QUICKACK after a while; re-arming it after each read
        // keeps delayed ACKs from stalling request/response exchanges.
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }
    return n;
}

static inline ssize_t tasker_send(libssh2_socket_t fd, const void *buffer, size_t length,
                                  int flags, void **abstract) {
    ssize_t n = send(fd, buffer, length, flags | MSG_NOSIGNAL);
    if (n < 0) return -errno;
    ((tasker_session_io *)*abstract)->bytes_sent += (uint64_t)n;
    return n;
}

/// Creates a session whose socket I/O goes through the counting hooks above.
static inline LIBSSH2_SESSION *tasker_session_new(tasker_session_io *io) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, io);
    if (session == NULL) return NULL;
    libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)tasker_recv);
    libssh2_session_callback_set(session, LIBSSH2_CALLBACK_SEND, (void *)tasker_send);
    return session;
}

static inline LIBSSH2_CHANNEL *tasker_channel_open_session(LIBSSH2_SESSION *session,
                                                           unsigned int window_size,
                                                           unsigned int packet_size) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   window_size, packet_size, NULL, 0);
}

static inline int tasker_channel_exec(LIBSSH2_CHANNEL *channel, const char *command,
                                      unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1,
                                           command, length);
}

static inline int tasker_session_disconnect(LIBSSH2_SESSION *session, const char *why) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, why, "");
}

/// SHA-256 of a buffer into `out` (32 bytes).
static inline int tasker_sha256(const void *data, size_t length, unsigned char *out) {
    unsigned int written = 0;
    return EVP_Digest(data, length, out, &written, EVP_sha256(), NULL) == 1 && written == 32 ? 0 : -1;
}

/// An ed25519 private key held by OpenSSL, parsed once per run from its 32-byte seed.
static inline void *tasker_ed25519_key_new(const unsigned char *seed) {
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

static inline void tasker_ed25519_key_free(void *key) {
    EVP_PKEY_free((EVP_PKEY *)key);
}

/// libssh2's public-key sign callback: `*abstract` is an EVP_PKEY from
/// tasker_ed25519_key_new. Returns the raw 64-byte signature, which libssh2
/// wraps with the key type; libssh2 frees it with free().
static inline int tasker_ed25519_sign(LIBSSH2_SESSION *session, unsigned char **sig, size_t *sig_len,
                                      const unsigned char *data, size_t data_len, void **abstract) {
    (void)session;
    EVP_PKEY *key = (EVP_PKEY *)*abstract;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return -1;
    size_t length = 64;
    unsigned char *out = malloc(length);
    int ok = out != NULL
        && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1
        && EVP_DigestSign(ctx, out, &length, data, data_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        free(out);
        return -1;
    }
    *sig = out;
    *sig_len = length;
    return 0;
}

/// Public-key authentication with a key Tasker already holds in memory.
static inline int tasker_userauth_ed25519(LIBSSH2_SESSION *session, const char *user,
                                          const unsigned char *public_blob, size_t public_length, void **key) {
    return libssh2_userauth_publickey(session, user, public_blob, public_length, tasker_ed25519_sign, key);
}

#endif
