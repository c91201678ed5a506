import CLibSSH2

/// Hashes computed by the crypto library libssh2 already links.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { tasker_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        return out
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(sha256(bytes))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// SHA-256 of data given in pieces.
    public final class SHA256: @unchecked Sendable {
        /// The EVP_MD_CTX until `finish`; used by one owner at a time.
        private var context: UnsafeMutableRawPointer?

        public init() {
            context = tasker_sha256_begin()
        }

        deinit {
            var discarded = [UInt8](repeating: 0, count: 32)
            if let context { _ = tasker_sha256_end(context, &discarded) }
        }

        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard let context, bytes.count > 0 else { return }
            _ = tasker_sha256_update(context, bytes.baseAddress, bytes.count)
        }

        /// The digest in lower-case hex; the hasher cannot be used after.
        public func finishHex() -> String {
            var out = [UInt8](repeating: 0, count: 32)
            if let context { _ = tasker_sha256_end(context, &out) }
            context = nil
            return Digest.hex(out)
        }
    }
}
