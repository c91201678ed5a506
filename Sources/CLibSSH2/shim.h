// The only place Tasker includes libssh2.h. libssh2's function-like macros do
// not import into Swift; the few Tasker needs are wrapped here, together with
// the socket receive hook that counts inbound bytes and re-arms TCP_QUICKACK.
#ifndef TASKER_LIBSSH2_SHIM_H
#define TASKER_LIBSSH2_SHIM_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/// The byte queues of a session carried by a channel of another session (a
/// jump host's `direct-tcpip` channel) instead of a socket. The carrier moves
/// bytes between the queues and its channel, on the same thread.
typedef struct tasker_tunnel_buffers {
    unsigned char *inbound;        /* from the carrier, for this session to read */
    size_t inbound_length;
    size_t inbound_capacity;
    unsigned char *outbound;       /* written by this session, for the carrier to send */
    size_t outbound_length;
    size_t outbound_capacity;
    /// Set by the carrier when the tunnel ended: reads and writes fail.
    int ended;
    /// Called when the carrier has work: bytes to send, or room to read into.
    void (*wake_carrier)(void *context);
    void *context;
} tasker_tunnel_buffers;

/// Per-session counters reached through libssh2's session abstract pointer.
typedef struct tasker_session_io {
    uint64_t bytes_received;
    uint64_t bytes_sent;
    /// The errno of the last failed socket call other than EAGAIN (e.g. ETIMEDOUT
    /// once TCP_USER_TIMEOUT gave up), so errors can say why the socket failed.
    int last_errno;
    /// Set when the peer closed the TCP connection (a read returned 0).
    int peer_closed;
    /// Non-NULL for a tunnelled session: I/O goes to these queues, not the socket.
    tasker_tunnel_buffers *tunnel;
    /// The password keyboard-interactive prompts are answered with, while such
    /// a login is in progress; NULL otherwise.
    const unsigned char *password;
    size_t password_length;
    /// Set when the server asked something other than a password (an echoed prompt).
    int kbdint_unanswered;
} tasker_session_io;

static inline ssize_t tasker_tunnel_recv(tasker_session_io *io, void *buffer, size_t length) {
    tasker_tunnel_buffers *tunnel = io->tunnel;
    if (tunnel->inbound_length == 0) return tunnel->ended ? -ECONNRESET : -EAGAIN;
    int was_full = tunnel->inbound_length == tunnel->inbound_capacity;
    size_t n = length < tunnel->inbound_length ? length : tunnel->inbound_length;
    memcpy(buffer, tunnel->inbound, n);
    memmove(tunnel->inbound, tunnel->inbound + n, tunnel->inbound_length - n);
    tunnel->inbound_length -= n;
    io->bytes_received += (uint64_t)n;
    if (was_full) tunnel->wake_carrier(tunnel->context);
    return (ssize_t)n;
}

static inline ssize_t tasker_tunnel_send(tasker_session_io *io, const void *buffer, size_t length) {
    tasker_tunnel_buffers *tunnel = io->tunnel;
    if (tunnel->ended) return -EPIPE;
    size_t room = tunnel->outbound_capacity - tunnel->outbound_length;
    if (room == 0) return -EAGAIN;
    size_t n = length < room ? length : room;
    memcpy(tunnel->outbound + tunnel->outbound_length, buffer, n);
    tunnel->outbound_length += n;
    io->bytes_sent += (uint64_t)n;
    tunnel->wake_carrier(tunnel->context);
    return (ssize_t)n;
}

static inline ssize_t tasker_recv(libssh2_socket_t fd, void *buffer, size_t length,
                                  int flags, void **abstract) {
    if (((tasker_session_io *)*abstract)->tunnel != NULL)
        return tasker_tunnel_recv((tasker_session_io *)*abstract, buffer, length);
    ssize_t n = recv(fd, buffer, length, flags);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            ((tasker_session_io *)*abstract)->last_errno = errno;
        return -errno;
    }
    if (n == 0) ((tasker_session_io *)*abstract)->peer_closed = 1;
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
    if (((tasker_session_io *)*abstract)->tunnel != NULL)
        return tasker_tunnel_send((tasker_session_io *)*abstract, buffer, length);
    ssize_t n = send(fd, buffer, length, flags | MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            ((tasker_session_io *)*abstract)->last_errno = errno;
        return -errno;
    }
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

/// A `direct-tcpip` channel to `host:port` as seen from the server, for a
/// tunnelled session. The originator fields say where the tunnel starts, as
/// `ssh -W` reports it.
static inline LIBSSH2_CHANNEL *tasker_channel_direct_tcpip(LIBSSH2_SESSION *session,
                                                           const char *host, int port) {
    return libssh2_channel_direct_tcpip_ex(session, host, port, "127.0.0.1", 65535);
}

/// Opens a channel of a type no server offers. The server must answer with
/// an open failure, so this is a liveness probe that needs no MaxSessions slot,
/// and while waiting for the answer libssh2 reads every pending packet.
static inline LIBSSH2_CHANNEL *tasker_channel_open_probe(LIBSSH2_SESSION *session) {
    static const char type[] = "tasker-liveness-probe@tasker";
    return libssh2_channel_open_ex(session, type, sizeof(type) - 1, 2048, 2048, NULL, 0);
}

/// libssh2 1.10 reports exit status 0 for a channel that closed without an
/// `exit-status` message. To tell the two apart Tasker stores a sentinel in the
/// channel's exit-status field right after opening it; the server's message
/// overwrites it. The field is private to libssh2, so the layout of the
/// struct's head (as in libssh2_priv.h) is checked against what libssh2 itself
/// reports before anything is written; when it does not match, nothing is
/// written and the function returns 0.
#define TASKER_NO_EXIT_STATUS INT_MIN

struct tasker_channel_head {
    void *next, *prev, *head;      /* struct list_node */
    unsigned char *channel_type;
    unsigned channel_type_len;
    int exit_status;
};

static inline int tasker_channel_track_exit_status(LIBSSH2_CHANNEL *channel) {
    struct tasker_channel_head *head = (struct tasker_channel_head *)channel;
    if (head->channel_type_len != 7 || head->channel_type == NULL
        || memcmp(head->channel_type, "session", 7) != 0 || head->exit_status != 0
        || libssh2_channel_get_exit_status(channel) != 0)
        return 0;
    head->exit_status = TASKER_NO_EXIT_STATUS;
    if (libssh2_channel_get_exit_status(channel) != TASKER_NO_EXIT_STATUS) {
        head->exit_status = 0;
        return 0;
    }
    return 1;
}

static inline int tasker_channel_exec(LIBSSH2_CHANNEL *channel, const char *command,
                                      unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1,
                                           command, length);
}

static inline int tasker_session_disconnect(LIBSSH2_SESSION *session, const char *why) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, why, "");
}

/// A signature that Tasker obtains asynchronously (from its own key, which may
/// first need a passphrase, or from ssh-agent). The first time libssh2 asks, the callback records the data to sign
/// and answers EAGAIN; libssh2 keeps its state and asks again with the same
/// data once Tasker has put the signature (or a failure) in place.
typedef struct tasker_deferred_signature {
    unsigned char *request;        /* malloc'd copy of the data to sign */
    size_t request_length;
    unsigned char *signature;      /* malloc'd by Tasker; handed to libssh2, which frees it */
    size_t signature_length;
    int failed;
} tasker_deferred_signature;

static inline int tasker_deferred_sign(LIBSSH2_SESSION *session, unsigned char **sig, size_t *sig_len,
                                       const unsigned char *data, size_t data_len, void **abstract) {
    (void)session;
    tasker_deferred_signature *pending = (tasker_deferred_signature *)*abstract;
    if (pending->failed) return -1;
    if (pending->signature != NULL) {
        *sig = pending->signature;
        *sig_len = pending->signature_length;
        pending->signature = NULL;
        return 0;
    }
    if (pending->request == NULL) {
        pending->request = malloc(data_len);
        if (pending->request == NULL) return -1;
        memcpy(pending->request, data, data_len);
        pending->request_length = data_len;
    }
    return LIBSSH2_ERROR_EAGAIN;
}

static inline int tasker_userauth_deferred(LIBSSH2_SESSION *session, const char *user,
                                           const unsigned char *public_blob, size_t public_length,
                                           void **pending) {
    return libssh2_userauth_publickey(session, user, public_blob, public_length, tasker_deferred_sign, pending);
}

/// Answers keyboard-interactive prompts (`*abstract` is the session's
/// tasker_session_io): each hidden prompt gets the password; a prompt shown
/// with echo is not a password question and gets an empty answer.
static inline void tasker_kbdint_respond(const char *name, int name_length, const char *instruction,
                                         int instruction_length, int prompt_count,
                                         const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
                                         LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract) {
    (void)name; (void)name_length; (void)instruction; (void)instruction_length;
    tasker_session_io *io = (tasker_session_io *)*abstract;
    for (int i = 0; i < prompt_count; i++) {
        int answer = !prompts[i].echo && io->password != NULL;
        size_t length = answer ? io->password_length : 0;
        responses[i].text = malloc(length + 1);
        if (responses[i].text == NULL) {
            responses[i].length = 0;
            continue;
        }
        if (answer) memcpy(responses[i].text, io->password, length);
        else io->kbdint_unanswered = 1;
        responses[i].text[length] = 0;
        responses[i].length = (unsigned int)length;
    }
}

static inline int tasker_userauth_kbdint(LIBSSH2_SESSION *session, const char *user) {
    return libssh2_userauth_keyboard_interactive_ex(session, user, (unsigned int)strlen(user), tasker_kbdint_respond);
}

#endif
