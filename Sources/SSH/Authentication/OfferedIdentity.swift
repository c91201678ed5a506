/// One public key or certificate offered to a server, and what signs for it.
struct OfferedIdentity {
    enum Signer {
        /// A key file Tasker decrypts (asking for its passphrase) and signs with.
        case file(IdentityFile)
        /// The agent, asked for a signature by the agent's own key blob.
        case agent(SSHAgentClient.Identity)
    }

    /// How reports name it: a path, `agent:COMMENT`, or either with ` certificate`.
    let label: String
    /// The key or certificate blob; nil for an encrypted PEM key without a `.pub`
    /// file, whose public key is known only once it is decrypted.
    let blob: [UInt8]?
    let certificate: UserCertificate?
    let signer: Signer

    /// Orders identities as OpenSSH's `pubkey_prepare` does: certificate files;
    /// then the agent's keys, in the agent's order (a key that is also an
    /// identity file is signed by the agent); then the remaining identity
    /// files, each followed by its `FILE-cert.pub`. With `identitiesOnly`, agent
    /// keys that are not identity files are left out.
    static func plan(identityFiles: [(path: String, file: IdentityFile)], certificateFiles: [UserCertificate],
                     agentKeys: [SSHAgentClient.Identity], identitiesOnly: Bool) -> [OfferedIdentity] {
        func label(_ path: String) -> String { AuthenticationReport.displayPath(path) }
        var files = identityFiles
        var preferred: [OfferedIdentity] = []

        func signer(forCertifiedKey blob: [UInt8]) -> Signer? {
            if let agentKey = agentKeys.first(where: { $0.publicBlob == blob }) { return .agent(agentKey) }
            return identityFiles.first(where: { $0.file.publicBlob == blob }).map { .file($0.file) }
        }
        for certificate in certificateFiles {
            guard let signer = signer(forCertifiedKey: certificate.certifiedKeyBlob) else { continue }
            preferred.append(OfferedIdentity(label: label(certificate.source), blob: certificate.blob,
                                             certificate: certificate, signer: signer))
        }
        for agentKey in agentKeys {
            if let index = files.firstIndex(where: { $0.file.publicBlob == agentKey.publicBlob }) {
                preferred.append(OfferedIdentity(label: label(files[index].path), blob: agentKey.publicBlob,
                                                 certificate: nil, signer: .agent(agentKey)))
                files.remove(at: index)
            } else if !identitiesOnly {
                let certificate = UserCertificate(blob: agentKey.publicBlob, source: "agent:\(agentKey.comment)")
                preferred.append(OfferedIdentity(label: "agent:\(agentKey.comment)" + (certificate == nil ? "" : " certificate"),
                                                 blob: agentKey.publicBlob, certificate: certificate, signer: .agent(agentKey)))
            }
        }
        for (path, file) in files {
            preferred.append(OfferedIdentity(label: label(path), blob: file.publicBlob, certificate: nil, signer: .file(file)))
            if let certificate = UserCertificate(file: path + "-cert.pub"),
               file.publicBlob == nil || certificate.certifiedKeyBlob == file.publicBlob,
               !certificateFiles.contains(where: { $0.blob == certificate.blob }) {
                preferred.append(OfferedIdentity(label: label(certificate.source), blob: certificate.blob,
                                                 certificate: certificate, signer: .file(file)))
            }
        }
        return preferred
    }
}
