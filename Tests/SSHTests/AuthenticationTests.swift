import Foundation
import Glibc
import TestFleet
import XCTest
@testable import SSH

/// Logging in as OpenSSH users do, against OpenSSH 9.2 servers with their
/// defaults (which refuse `ssh-rsa` SHA-1 signatures): RSA, ECDSA and encrypted
/// keys, a real ssh-agent, user certificates, passwords, and the report a
/// refused login leaves.
final class AuthenticationTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!
    private var server: TestSSHServer!
    private var authorizedKeys: String { directory.path + "/authorized_keys" }

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
        try "".write(toFile: authorizedKeys, atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        server?.stop()
        server = nil
    }

    /// An sshd that trusts only the keys (and CA) this test authorizes.
    private func startServer(_ extraConfig: [String] = []) throws {
        server = try TestSSHServer(fleet: fleet, name: "auth", address: "127.0.21.40",
                                   extraConfig: ["AuthorizedKeysFile \(authorizedKeys)"] + extraConfig)
    }

    private func keygen(_ name: String, _ arguments: [String]) throws -> String {
        let path = "\(directory.path)/\(name)"
        let result = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-f", path, "-C", name] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return path
    }

    private func authorize(_ key: String) throws {
        let line = try String(contentsOfFile: key + ".pub", encoding: .utf8)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: authorizedKeys))
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        handle.closeFile()
    }

    private func settings(keys: [String], agent: String? = nil, credentials: Credentials = Credentials()) -> SSHConnectionSettings {
        var settings = SSHConnectionSettings(name: "auth", address: server.address, port: server.port, user: NSUserName(),
                                             identityFiles: keys, agentSocket: agent,
                                             knownHosts: KnownHosts(files: [server.knownHosts]), connectTimeout: 10)
        settings.credentials = credentials
        return settings
    }

    private func runTrue(_ settings: SSHConnectionSettings, file: StaticString = #filePath, line: UInt = #line) async throws {
        let connection = try await SSHConnection.connect(settings, on: EventLoopGroup.shared.next())
        let exit = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(exit.exitCode, 0, file: file, line: line)
        await connection.close()
    }

    private func expectAuthFailure(_ settings: SSHConnectionSettings, file: StaticString = #filePath, line: UInt = #line) async -> String {
        do {
            let connection = try await SSHConnection.connect(settings, on: EventLoopGroup.shared.next())
            await connection.close()
            XCTFail("expected the login to fail", file: file, line: line)
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .authFailed, "\(error)", file: file, line: line)
            return error.message
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return ""
    }

    /// An SSH_ASKPASS program that answers `answer` and counts how often it was run.
    private func askpass(answering answer: String) throws -> (Credentials, count: () -> Int) {
        let script = directory.path + "/askpass-\(UUID().uuidString)"
        let counter = script + ".count"
        try "#!/bin/sh\necho \"$1\" >> '\(counter)'\nprintf '%s\\n' '\(answer)'\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let prompt = SecretPrompt(environment: ["SSH_ASKPASS": script, "SSH_ASKPASS_REQUIRE": "force"])
        let count = {
            (try? String(contentsOfFile: counter, encoding: .utf8))?.split(separator: "\n").count ?? 0
        }
        return (Credentials(prompt: prompt), count)
    }

    private func startAgent(adding keys: [String]) throws -> TestAgent {
        let agent = try TestAgent(directory: directory.path)
        try agent.add(keys)
        return agent
    }

    // MARK: Key types

    func testRSAKeyFilesSignWithSHA2() async throws {
        try startServer()
        let openssh = try keygen("rsa", ["-t", "rsa", "-b", "3072", "-N", ""])
        let pem = try keygen("rsa-pem", ["-t", "rsa", "-b", "2048", "-N", "", "-m", "PEM"])
        try authorize(openssh)
        try authorize(pem)
        try await runTrue(settings(keys: [openssh]))
        try await runTrue(settings(keys: [pem]))
        XCTAssertEqual(server.acceptedLogins(), 2)
    }

    func testRSAKeyFallsBackToSHA256WhenTheServerTakesOnlyThat() async throws {
        try startServer(["PubkeyAcceptedAlgorithms rsa-sha2-256"])
        let key = try keygen("rsa", ["-t", "rsa", "-b", "2048", "-N", ""])
        try authorize(key)
        try await runTrue(settings(keys: [key]))
    }

    func testSHA1IsTriedLastAndOnlyWhenPubkeyAcceptedAlgorithmsAllowsIt() async throws {
        try startServer(["PubkeyAcceptedAlgorithms ssh-rsa"])
        let key = try keygen("rsa", ["-t", "rsa", "-b", "2048", "-N", ""])
        try authorize(key)
        let message = await expectAuthFailure(settings(keys: [key]))
        XCTAssertTrue(message.contains("(rsa-sha2-512, rsa-sha2-256): refused"), message)
        var withSHA1 = settings(keys: [key])
        withSHA1.publicKeyAlgorithms = AlgorithmList.resolve("+ssh-rsa", for: .pubkeyAcceptedAlgorithms)
        try await runTrue(withSHA1)
    }

    func testRSAKeyInTheAgentSignsWithSHA2() async throws {
        try startServer()
        let key = try keygen("rsa-agent", ["-t", "rsa", "-b", "2048", "-N", ""])
        try authorize(key)
        let agent = try startAgent(adding: [key])
        defer { agent.stop() }
        try await runTrue(settings(keys: [], agent: agent.socket))
    }

    func testECDSAKeysOfEveryCurve() async throws {
        try startServer()
        for bits in ["256", "384", "521"] {
            let key = try keygen("ecdsa\(bits)", ["-t", "ecdsa", "-b", bits, "-N", ""])
            try authorize(key)
            try await runTrue(settings(keys: [key]))
        }
    }

    func testPubkeyAcceptedAlgorithmsWithoutRSALeavesTheKeyUnoffered() async throws {
        try startServer()
        let key = try keygen("rsa", ["-t", "rsa", "-b", "2048", "-N", ""])
        try authorize(key)
        var restricted = settings(keys: [key])
        restricted.publicKeyAlgorithms = AlgorithmList.resolve("-rsa-sha2-*", defaults: AlgorithmList.defaultPublicKeyAlgorithms,
                                                              known: AlgorithmList.knownPublicKeyAlgorithms)
        let message = await expectAuthFailure(restricted)
        XCTAssertTrue(message.contains("PubkeyAcceptedAlgorithms allows none of rsa-sha2-512, rsa-sha2-256, ssh-rsa"), message)
        XCTAssertEqual(server.acceptedLogins(), 0)
    }

    // MARK: Encrypted keys

    func testEncryptedKeysAskForTheirPassphraseOncePerRun() async throws {
        try startServer()
        let openssh = try keygen("enc", ["-t", "ed25519", "-N", "open sesame", "-a", "4"])
        let pem = try keygen("enc-pem", ["-t", "rsa", "-b", "2048", "-N", "open sesame", "-m", "PEM"])
        try authorize(openssh)
        try authorize(pem)
        let (credentials, asked) = try askpass(answering: "open sesame")
        try await runTrue(settings(keys: [openssh], credentials: credentials))
        try await runTrue(settings(keys: [openssh], credentials: credentials))
        XCTAssertEqual(asked(), 1, "one question for the key, however many connections use it")
        try await runTrue(settings(keys: [pem], credentials: credentials))
        XCTAssertEqual(asked(), 2)
    }

    func testNoPassphraseIsAskedForAKeyTheServerWouldNotTake() async throws {
        try startServer()
        let stranger = try keygen("stranger", ["-t", "ed25519", "-N", "pw-pw-pw", "-a", "2"])
        let authorized = try keygen("plain", ["-t", "ed25519", "-N", ""])
        try authorize(authorized)
        let (credentials, asked) = try askpass(answering: "pw-pw-pw")
        try await runTrue(settings(keys: [stranger, authorized], credentials: credentials))
        XCTAssertEqual(asked(), 0)
    }

    func testWrongPassphraseIsAskedThreeTimesThenTheKeyIsSkipped() async throws {
        try startServer()
        let key = try keygen("enc", ["-t", "ecdsa", "-N", "right one", "-a", "2"])
        try authorize(key)
        let (credentials, asked) = try askpass(answering: "wrong one")
        let message = await expectAuthFailure(settings(keys: [key], credentials: credentials))
        XCTAssertEqual(asked(), 3)
        XCTAssertTrue(message.contains("wrong passphrase 3 times; key skipped"), message)
    }

    func testAKeyTheAgentHoldsIsNeverAskedFor() async throws {
        try startServer()
        let key = try keygen("enc", ["-t", "ed25519", "-N", "agent has it", "-a", "2"])
        try authorize(key)
        let agentCopy = try keygen("copy", ["-t", "ed25519", "-N", ""])
        // The agent holds the same key, unencrypted.
        try FileManager.default.removeItem(atPath: agentCopy)
        let decrypt = try ProcessRunner.run("/bin/sh", ["-c", "cp '\(key)' '\(agentCopy)' && ssh-keygen -q -p -P 'agent has it' -N '' -f '\(agentCopy)'"])
        XCTAssertEqual(decrypt.status, 0, decrypt.stderr)
        let agent = try startAgent(adding: [agentCopy])
        defer { agent.stop() }
        let (credentials, asked) = try askpass(answering: "agent has it")
        var viaAgent = settings(keys: [key], agent: agent.socket, credentials: credentials)
        viaAgent.identitiesOnly = true
        try await runTrue(viaAgent)
        XCTAssertEqual(asked(), 0)
    }

    // MARK: Certificates

    private func certify(_ key: String, ca: String, validity: String, identity: String = "test-cert") throws {
        let sign = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-s", ca, "-I", identity, "-n", NSUserName(), "-V", validity, key + ".pub"])
        XCTAssertEqual(sign.status, 0, sign.stderr)
    }

    func testECDSACertificatesFromFilesAndTheAgent() async throws {
        let ca = try keygen("ca", ["-t", "ed25519", "-N", ""])
        try startServer(["TrustedUserCAKeys \(ca).pub"])
        let key = try keygen("user", ["-t", "ecdsa", "-N", ""])
        try certify(key, ca: ca, validity: "-5m:+1h")
        // FILE-cert.pub beside the key, as OpenSSH finds it.
        try await runTrue(settings(keys: [key]))
        // CertificateFile naming it elsewhere.
        let elsewhere = directory.path + "/elsewhere-cert.pub"
        try FileManager.default.moveItem(atPath: key + "-cert.pub", toPath: elsewhere)
        var withCertificateFile = settings(keys: [key])
        withCertificateFile.certificateFiles = [elsewhere]
        try await runTrue(withCertificateFile)
        // Held by the agent (ssh-add loads KEY-cert.pub with KEY).
        try FileManager.default.moveItem(atPath: elsewhere, toPath: key + "-cert.pub")
        let agent = try startAgent(adding: [key])
        defer { agent.stop() }
        try await runTrue(settings(keys: [], agent: agent.socket))
        XCTAssertEqual(server.acceptedLogins(), 3)
    }

    func testExpiredAndUnsignableCertificatesAreReportedNotOffered() async throws {
        let ca = try keygen("ca", ["-t", "ecdsa", "-N", ""])
        try startServer(["TrustedUserCAKeys \(ca).pub"])
        let expired = try keygen("expired", ["-t", "ecdsa", "-N", ""])
        try certify(expired, ca: ca, validity: "20200101:20200102")
        let ed25519 = try keygen("ed", ["-t", "ed25519", "-N", ""])
        try certify(ed25519, ca: ca, validity: "-5m:+1h")
        let message = await expectAuthFailure(settings(keys: [expired, ed25519]))
        XCTAssertTrue(message.contains("expired-cert.pub (ecdsa-sha2-nistp256-cert-v01@openssh.com): not offered: certificate"), message)
        XCTAssertTrue(message.contains("expired 2020-01-02"), message)
        XCTAssertTrue(message.contains("ed-cert.pub (ssh-ed25519-cert-v01@openssh.com): not offered: libssh2 1.10 cannot sign for ed25519 or RSA certificates"), message)
    }

    // MARK: The failure report

    func testRefusedLoginListsEveryIdentityAndTheServersMethods() async throws {
        try startServer()
        let rsa = try keygen("id_rsa", ["-t", "rsa", "-b", "2048", "-N", ""])
        let ed25519 = try keygen("id_ed25519", ["-t", "ed25519", "-N", ""])
        let agentKey = try keygen("laptop", ["-t", "ecdsa", "-N", ""])
        let agent = try startAgent(adding: [agentKey])
        defer { agent.stop() }
        let message = await expectAuthFailure(settings(keys: [rsa, ed25519, directory.path + "/missing"], agent: agent.socket))
        let expected = "\(NSUserName())@auth:\(server.port): offered agent:laptop (ecdsa-sha2-nistp256): refused; "
            + "\(rsa) (rsa-sha2-512, rsa-sha2-256): refused; \(ed25519) (ssh-ed25519): refused; "
            + "no key file \(directory.path)/missing; server allows: publickey"
        XCTAssertEqual(message, expected)
    }

    // MARK: Passwords

    private func passwordFile(_ password: String, mode: mode_t = 0o600) throws -> String {
        let path = directory.path + "/password-\(UUID().uuidString.prefix(6))"
        try (password + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    func testPasswordAndKeyboardInteractiveLoginsWithAPasswordFile() async throws {
        try PasswordUser.ensure(password: "Tr0ub4dor&3")
        try startServer(["PasswordAuthentication yes", "KbdInteractiveAuthentication yes", "UsePAM yes",
                         "PermitEmptyPasswords no"])
        var login = settings(keys: [], credentials: Credentials(passwordSource: .file(try passwordFile("Tr0ub4dor&3"))))
        login.user = PasswordUser.name
        // keyboard-interactive first, as OpenSSH orders them.
        try await runTrue(login)
        login.keyboardInteractiveAuthentication = false
        try await runTrue(login)
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        XCTAssertTrue(log.contains("Accepted keyboard-interactive/pam for \(PasswordUser.name)"), log)
        XCTAssertTrue(log.contains("Accepted password for \(PasswordUser.name)"), log)
    }

    func testWrongPasswordIsReportedAndNeverShown() async throws {
        try PasswordUser.ensure(password: "right-password")
        try startServer(["PasswordAuthentication yes", "KbdInteractiveAuthentication no"])
        var login = settings(keys: [], credentials: Credentials(passwordSource: .file(try passwordFile("hunter2-wrong"))))
        login.user = PasswordUser.name
        let message = await expectAuthFailure(login)
        XCTAssertTrue(message.contains("password: refused"), message)
        XCTAssertTrue(message.contains("server allows: publickey, password"), message)
        XCTAssertFalse(message.contains("hunter2"))
    }

    func testAPasswordFileOthersCanReadIsRefused() async throws {
        try startServer(["PasswordAuthentication yes"])
        var login = settings(keys: [], credentials: Credentials(passwordSource: .file(try passwordFile("secret", mode: 0o644))))
        login.user = PasswordUser.name
        let message = await expectAuthFailure(login)
        XCTAssertTrue(message.contains("is readable by others (mode 644); chmod 600 it"), message)
    }
}
