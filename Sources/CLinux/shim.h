// Linux APIs that Swift's Glibc module does not expose.
#ifndef TASKER_CLINUX_SHIM_H
#define TASKER_CLINUX_SHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/prctl.h>

/// pipe2 (O_CLOEXEC set atomically) is a GNU extension the Glibc module does not export.
int pipe2(int pipefd[2], int flags);

static inline int tasker_pipe2(int pipefd[2], int flags) {
    return pipe2(pipefd, flags);
}

/// A descriptor that becomes readable when process `pid` exits (Linux 5.3+); -1 where unsupported.
static inline int tasker_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}
/// Names the calling thread (shown by ps, top and gdb); at most 15 characters.
static inline void tasker_name_thread(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}
#endif
