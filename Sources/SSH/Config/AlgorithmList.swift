/// An ssh_config algorithm list (`KexAlgorithms`, `HostKeyAlgorithms`,
/// `Ciphers`, `MACs`, `PubkeyAcceptedAlgorithms`) resolved as OpenSSH 9.2
/// does (kex_assemble_names): a value starting with `+` appends to the
/// default list, `-` removes the names its patterns match, `^` puts names
/// first; otherwise the value's patterns pick names in the order written.
public enum AlgorithmList {
    /// The ssh_config keywords that hold algorithm lists.
    public enum Keyword: Sendable {
        case kexAlgorithms, hostKeyAlgorithms, ciphers, macs, pubkeyAcceptedAlgorithms

        /// The client default of Debian's OpenSSH 9.2 (`ssh -G`), which `+`, `-` and `^` start from.
        var defaults: [String] {
            switch self {
            case .kexAlgorithms:
                return ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
                        "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
                        "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
                        "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"]
            case .hostKeyAlgorithms, .pubkeyAcceptedAlgorithms:
                return AlgorithmList.defaultPublicKeyAlgorithms
            case .ciphers:
                return ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
                        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
            case .macs:
                return ["umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
                        "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-64@openssh.com",
                        "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"]
            }
        }

        /// Every name patterns pick from, in the order they are picked: OpenSSH's
        /// (`ssh -Q`), then the older ones only libssh2 still speaks.
        var known: [String] {
            switch self {
            case .kexAlgorithms:
                return ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group14-sha256",
                        "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha1",
                        "diffie-hellman-group-exchange-sha256", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
                        "curve25519-sha256", "curve25519-sha256@libssh.org", "sntrup761x25519-sha512",
                        "sntrup761x25519-sha512@openssh.com"]
            case .hostKeyAlgorithms, .pubkeyAcceptedAlgorithms:
                return AlgorithmList.knownPublicKeyAlgorithms
            case .ciphers:
                return ["3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-ctr", "aes192-ctr", "aes256-ctr",
                        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
                        "rijndael-cbc@lysator.liu.se", "blowfish-cbc", "cast128-cbc", "arcfour", "arcfour128"]
            case .macs:
                return ["hmac-sha1", "hmac-sha1-96", "hmac-sha2-256", "hmac-sha2-512", "hmac-md5", "hmac-md5-96",
                        "umac-64@openssh.com", "umac-128@openssh.com", "hmac-sha1-etm@openssh.com", "hmac-sha1-96-etm@openssh.com",
                        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-md5-etm@openssh.com",
                        "hmac-md5-96-etm@openssh.com", "umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
                        "hmac-ripemd160", "hmac-ripemd160@openssh.com"]
            }
        }
    }

    public static func resolve(_ value: String, for keyword: Keyword) -> [String] {
        resolve(value, defaults: keyword.defaults, known: keyword.known)
    }

    public static func resolve(_ value: String, defaults: [String], known: [String]) -> [String] {
        guard let first = value.first else { return defaults }
        let rest = String(value.dropFirst())
        switch first {
        case "+":
            let added = expand(rest, over: known)
            return defaults + added.filter { !defaults.contains($0) }
        case "-":
            let patterns = rest.split(separator: ",").map(String.init)
            return defaults.filter { name in !patterns.contains { HostPattern.glob($0, matches: name) } }
        case "^":
            let put = expand(rest, over: known)
            return put + defaults.filter { !put.contains($0) }
        default:
            return expand(value, over: known)
        }
    }

    /// For each pattern in turn, the names of `known` it matches (in `known`'s
    /// order), without repeats; names no one knows are dropped.
    private static func expand(_ list: String, over known: [String]) -> [String] {
        var names: [String] = []
        for pattern in list.split(separator: ",").map(String.init) {
            for name in known where HostPattern.glob(pattern, matches: name) && !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// OpenSSH 9.2's client default for PubkeyAcceptedAlgorithms (myproposal.h), which leaves out `ssh-rsa`.
    public static let defaultPublicKeyAlgorithms = [
        "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com",
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-512", "rsa-sha2-256",
    ]

    /// Every public-key algorithm name OpenSSH 9.2 knows, in its order (`ssh -Q PubkeyAcceptedAlgorithms`).
    public static let knownPublicKeyAlgorithms = [
        "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss", "ssh-dss-cert-v01@openssh.com", "ssh-rsa",
        "ssh-rsa-cert-v01@openssh.com", "rsa-sha2-256", "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512",
        "rsa-sha2-512-cert-v01@openssh.com",
    ]
}
