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
        sha256(bytes).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
