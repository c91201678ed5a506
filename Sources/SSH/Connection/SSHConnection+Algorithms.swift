import CLibSSH2

extension SSHConnection {
    /// Sets the key exchange's algorithm lists before the handshake: ssh_config's
    /// `KexAlgorithms`, `Ciphers`, `MACs` and `HostKeyAlgorithms` as far as
    /// libssh2 1.10 supports them, and, when `HostKeyAlgorithms` is not set,
    /// the host key types known_hosts records for this host first (as OpenSSH
    /// orders them), so a host known by one key type is asked for that one.
    func applyAlgorithmPreferences(_ session: OpaquePointer) throws {
        let preferences = settings.algorithms
        try prefer(preferences.keyExchange, keyword: "KexAlgorithms", methods: [LIBSSH2_METHOD_KEX], session)
        try prefer(preferences.ciphers, keyword: "Ciphers", methods: [LIBSSH2_METHOD_CRYPT_CS, LIBSSH2_METHOD_CRYPT_SC], session)
        try prefer(preferences.macs, keyword: "MACs", methods: [LIBSSH2_METHOD_MAC_CS, LIBSSH2_METHOD_MAC_SC], session)
        // libssh2 lists ECDSA certificate host keys but cannot use them (no verifier): never offer them.
        let usable = Self.supported(LIBSSH2_METHOD_HOSTKEY, session).filter { !$0.hasSuffix("-cert-v01@openssh.com") }
        var hostKey = preferences.hostKey ?? usable
        if preferences.hostKey == nil {
            let known = settings.knownHosts.keyTypes(host: settings.knownHostsName, port: settings.port)
            hostKey = known.filter(usable.contains) + usable.filter { !known.contains($0) }
        }
        try prefer(hostKey, keyword: "HostKeyAlgorithms", methods: [LIBSSH2_METHOD_HOSTKEY], session, supported: usable)
    }

    /// Sets `names` (in order) for each of `methods`. Only names libssh2 supports
    /// are passed: libssh2 1.10 drops unsupported ones with an overlapping
    /// memcpy, which corrupts memory.
    private func prefer(_ names: [String]?, keyword: String, methods: [Int32], _ session: OpaquePointer,
                        supported: [String]? = nil) throws {
        guard let names else { return }
        let supported = supported ?? Self.supported(methods[0], session)
        let usable = names.filter(supported.contains)
        guard !usable.isEmpty else {
            throw SSHError(.other, phase: .handshake,
                           "ssh_config \(keyword) leaves nothing libssh2 1.10 supports (asked for \(names.joined(separator: ",")); it supports \(supported.joined(separator: ",")))")
        }
        for method in methods {
            let rc = libssh2_session_method_pref(session, method, usable.joined(separator: ","))
            if rc != 0 {
                throw SSHError(.other, phase: .handshake, "libssh2 refused the \(keyword) list \(usable.joined(separator: ","))", code: rc)
            }
        }
    }

    /// What a failed key exchange offered, for its error: the server shares none of
    /// one of these lists (OpenSSH 9.2 servers, for one, no longer sign with `ssh-rsa`).
    func offeredAlgorithmsHint(_ session: OpaquePointer) -> String {
        let hostKeys = settings.algorithms.hostKey ?? Self.supported(LIBSSH2_METHOD_HOSTKEY, session)
            .filter { !$0.hasSuffix("-cert-v01@openssh.com") }
        return "no algorithm in common with the server? libssh2 1.10 offered host keys "
            + hostKeys.joined(separator: ",")
            + "; ciphers " + (settings.algorithms.ciphers ?? Self.supported(LIBSSH2_METHOD_CRYPT_CS, session)).joined(separator: ",")
            + "; MACs " + (settings.algorithms.macs ?? Self.supported(LIBSSH2_METHOD_MAC_CS, session)).joined(separator: ",")
    }

    static func supported(_ method: Int32, _ session: OpaquePointer) -> [String] {
        var algorithms: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, method, &algorithms)
        guard count > 0, let algorithms else { return [] }
        defer { libssh2_free(session, algorithms) }
        return (0..<Int(count)).compactMap { algorithms[$0].map { String(cString: $0) } }
    }
}
