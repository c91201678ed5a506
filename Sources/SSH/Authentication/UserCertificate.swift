import Foundation

/// An OpenSSH user certificate (PROTOCOL.certkeys): the fields Tasker checks
/// before offering it. The CA's signature is the server's business.
struct UserCertificate: Sendable {
    /// The certificate blob as it is offered.
    let blob: [UInt8]
    /// `ssh-ed25519-cert-v01@openssh.com`, …
    let typeName: String
    let kind: UserKeyKind
    /// The blob of the plain public key the certificate certifies.
    let certifiedKeyBlob: [UInt8]
    let keyID: String
    let validAfter: UInt64
    let validBefore: UInt64
    /// Where the certificate came from, for messages (a file or `agent:comment`).
    let source: String

    static let userType: UInt32 = 1

    init?(blob: [UInt8], source: String) {
        var reader = SSHBufferReader(bytes: blob)
        guard let typeBytes = reader.readString() else { return nil }
        let typeName = String(decoding: typeBytes, as: UTF8.self)
        guard typeName.hasSuffix("-cert-v01@openssh.com"), let kind = UserKeyKind(keyTypeName: typeName),
              reader.readString() != nil /* nonce */ else { return nil }
        var plain = SSHBufferWriter()
        plain.writeString(Array(kind.keyTypeName.utf8))
        switch kind {
        case .ed25519:
            guard let point = reader.readString() else { return nil }
            plain.writeString(point)
        case .rsa:
            guard let e = reader.readMPInt(), let n = reader.readMPInt() else { return nil }
            plain.writeMPInt(e)
            plain.writeMPInt(n)
        case .ecdsa:
            guard let curve = reader.readString(), let point = reader.readString() else { return nil }
            plain.writeString(curve)
            plain.writeString(point)
        }
        guard reader.readBytes(8) != nil /* serial */, reader.readUInt32() == Self.userType,
              let keyID = reader.readString(), reader.readString() != nil /* principals */,
              let after = reader.readBytes(8), let before = reader.readBytes(8) else { return nil }
        self.blob = blob
        self.typeName = typeName
        self.kind = kind
        certifiedKeyBlob = plain.bytes
        self.keyID = String(decoding: keyID, as: UTF8.self)
        validAfter = after.reduce(0) { $0 << 8 | UInt64($1) }
        validBefore = before.reduce(0) { $0 << 8 | UInt64($1) }
        self.source = source
    }

    /// Reads `KEY-cert.pub` or a `CertificateFile`; nil when there is none or it is not a user certificate.
    init?(file path: String) {
        guard let blob = IdentityFile.publicKeyBlob(atPath: path) else { return nil }
        self.init(blob: blob, source: path)
    }

    /// Why the certificate cannot be used at `now`, or nil when it is valid.
    func validityProblem(at now: Date = Date()) -> String? {
        let seconds = UInt64(max(0, now.timeIntervalSince1970))
        if seconds < validAfter { return "certificate \(AuthenticationReport.displayPath(source)) is not valid until \(Self.format(validAfter))" }
        if seconds >= validBefore { return "certificate \(AuthenticationReport.displayPath(source)) expired \(Self.format(validBefore))" }
        return nil
    }

    /// Whether libssh2 1.10 can send a signature for this certificate: it names the
    /// signature after the certificate type, which OpenSSH accepts only for ECDSA.
    var libssh2CanSign: Bool {
        if case .ecdsa = kind { return true }
        return false
    }

    private static func format(_ seconds: UInt64) -> String {
        guard seconds < UInt64(Int64.max) else { return "never" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
