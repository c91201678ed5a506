import CLibSSH2

/// libssh2 must be initialised exactly once per process, before any session.
enum LibSSH2Runtime {
    private static let initialised: Bool = {
        libssh2_init(0) == 0
    }()

    static func ensureInitialised() throws {
        guard initialised else {
            throw SSHError(.other, phase: .connect, "libssh2_init failed")
        }
    }
}
