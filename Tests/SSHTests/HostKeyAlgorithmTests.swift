import Foundation
import TestFleet
import XCTest
@testable import SSH

/// Key exchange as OpenSSH orders it: host-key algorithms known_hosts vouches
/// for first, ssh_config's algorithm lists honoured within what libssh2 1.10
/// supports, and a plain word when only a certificate authority is known.
final class HostKeyAlgorithmTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!
    private var server: TestSSHServer!
    private var ecdsaHostKey: String { directory.path + "/ssh_host_ecdsa_key" }

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
        let keygen = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", ecdsaHostKey])
        XCTAssertEqual(keygen.status, 0, keygen.stderr)
    }

    override func tearDown() {
        server?.stop()
        server = nil
    }

    /// An sshd with an ECDSA host key besides the fleet's ed25519 one.
    private func startServer(_ extraConfig: [String] = []) throws {
        server = try TestSSHServer(fleet: fleet, name: "hostkeys", address: "127.0.21.41",
                                   extraConfig: ["HostKey \(ecdsaHostKey)"] + extraConfig)
    }

    private func knownHosts(_ lines: [String]) throws -> KnownHosts {
        let path = directory.path + "/known_hosts-\(UUID().uuidString.prefix(6))"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return KnownHosts(files: [path])
    }

    private func ecdsaLine() throws -> String {
        let key = try String(contentsOfFile: ecdsaHostKey + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        return "[\(server.address)]:\(server.port) \(key)"
    }

    private func settings(_ known: KnownHosts) -> SSHConnectionSettings {
        SSHConnectionSettings(name: "hostkeys", address: server.address, port: server.port, user: NSUserName(),
                              identityFiles: [fleet.clientKey], knownHosts: known, connectTimeout: 10)
    }

    private func connectionError(_ settings: SSHConnectionSettings) async -> SSHError? {
        do {
            let connection = try await SSHConnection.connect(settings, on: EventLoopGroup.shared.next())
            await connection.close()
            return nil
        } catch {
            return error as? SSHError
        }
    }

    func testHostKnownOnlyByItsECDSAKeyIsAskedForThatKey() async throws {
        try startServer()
        let connection = try await SSHConnection.connect(settings(try knownHosts([try ecdsaLine()])), on: EventLoopGroup.shared.next())
        let hostKey = await connection.hostKey
        XCTAssertEqual(hostKey?.type, "ecdsa-sha2-nistp256")
        await connection.close()
    }

    func testExplicitHostKeyAlgorithmsWinOverKnownHostsOrder() async throws {
        try startServer()
        var explicit = settings(try knownHosts([try ecdsaLine()]))
        explicit.algorithms.hostKey = AlgorithmList.resolve("ssh-ed25519", for: .hostKeyAlgorithms)
        let error = await connectionError(explicit)
        XCTAssertEqual(error?.kind, .hostKeyRejected)
        XCTAssertTrue(error?.message.contains("ssh-ed25519") ?? false, "\(String(describing: error))")
    }

    func testCertificateAuthorityOnlyHostSaysWhyItCannotBeVerified() async throws {
        try startServer()
        let ca = directory.path + "/host_ca"
        _ = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", ca])
        let caKey = try String(contentsOfFile: ca + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let error = await connectionError(settings(try knownHosts(["@cert-authority *.example,[127.0.21.*]:\(server.port) \(caKey)"])))
        XCTAssertEqual(error?.kind, .hostKeyRejected)
        let message = error?.message ?? ""
        XCTAssertTrue(message.contains("known_hosts trusts only a certificate authority for it (@cert-authority at "), message)
        XCTAssertTrue(message.contains("libssh2 1.10 cannot negotiate certificate host keys"), message)
    }

    func testCiphersFromSSHConfigAreHonoured() async throws {
        try startServer(["Ciphers aes192-ctr"])
        let known = try knownHosts([try ecdsaLine()])
        var allowed = settings(known)
        allowed.algorithms.ciphers = AlgorithmList.resolve("^aes192-ctr", for: .ciphers)
        let accepted = await connectionError(allowed)
        XCTAssertNil(accepted)
        var excluded = settings(known)
        excluded.algorithms.ciphers = AlgorithmList.resolve("-aes192*", for: .ciphers)
        let refused = await connectionError(excluded)
        XCTAssertEqual(refused?.phase, .handshake, "\(String(describing: refused))")
    }

    func testAListLibSSH2CannotUseIsAnErrorNamingTheKeyword() async throws {
        try startServer()
        var unusable = settings(try knownHosts([try ecdsaLine()]))
        unusable.algorithms.ciphers = AlgorithmList.resolve("chacha20-poly1305@openssh.com,aes*-gcm@openssh.com", for: .ciphers)
        let error = await connectionError(unusable)
        XCTAssertTrue(error?.message.contains("ssh_config Ciphers leaves nothing libssh2 1.10 supports (asked for chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com") ?? false,
                      "\(String(describing: error))")
    }

    func testAServerSigningOnlyWithRSASHA2SaysNoAlgorithmIsShared() async throws {
        // libssh2 1.10 verifies RSA host keys only as ssh-rsa (SHA-1).
        try startServer(["HostKeyAlgorithms rsa-sha2-512,rsa-sha2-256"])
        let error = await connectionError(settings(try knownHosts([try ecdsaLine()])))
        XCTAssertEqual(error?.kind, .unreachable)
        XCTAssertEqual(error?.phase, .handshake)
        XCTAssertTrue(error?.message.contains("no algorithm in common with the server? libssh2 1.10 offered host keys ecdsa-sha2-nistp256,") ?? false,
                      "\(String(describing: error))")
    }

    func testAlgorithmListsResolveAsOpenSSHDoes() {
        let defaults = ["a", "b-1", "b-2", "c"]
        let known = defaults + ["d", "e-1"]
        XCTAssertEqual(AlgorithmList.resolve("+d,e-*", defaults: defaults, known: known), ["a", "b-1", "b-2", "c", "d", "e-1"])
        XCTAssertEqual(AlgorithmList.resolve("-b-*", defaults: defaults, known: known), ["a", "c"])
        XCTAssertEqual(AlgorithmList.resolve("^c,d", defaults: defaults, known: known), ["c", "d", "a", "b-1", "b-2"])
        XCTAssertEqual(AlgorithmList.resolve("b-*,a", defaults: defaults, known: known), ["b-1", "b-2", "a"])
        XCTAssertEqual(AlgorithmList.resolve("+ssh-rsa", for: .pubkeyAcceptedAlgorithms).last, "ssh-rsa")
        XCTAssertFalse(AlgorithmList.defaultPublicKeyAlgorithms.contains("ssh-rsa"))
    }
}
