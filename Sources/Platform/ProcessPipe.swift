import CLinux
import Glibc

/// A pipe for a child's stream, both ends close-on-exec from the start (pipe2), so a
/// child spawned by another thread meanwhile never inherits them.
struct ProcessPipe {
    let readEnd: Int32
    let writeEnd: Int32

    /// `nonBlockingRead`: the parent's end never blocks (the child's end stays blocking, as programs expect).
    init(nonBlockingRead: Bool) throws(ProcessSpawn.Failure) {
        var ends: [Int32] = [-1, -1]
        guard tasker_pipe2(&ends, O_CLOEXEC) == 0 else { throw ProcessSpawn.Failure(errorNumber: errno, step: "cannot create a pipe") }
        (readEnd, writeEnd) = (ends[0], ends[1])
        if nonBlockingRead { _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK) }
    }
}

/// A descriptor that becomes readable when process `pid` exits (Linux 5.3+); -1 where unsupported.
func processExitDescriptor(_ pid: pid_t) -> Int32 {
    let fd = tasker_pidfd_open(pid)
    if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return fd
}
