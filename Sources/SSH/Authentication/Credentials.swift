import CLibSSH2
import COpenSSL
import Foundation
import Locking

/// What a run authenticates with that is read or asked for once and shared by
/// every connection: key files (decoded once; a passphrase asked once per
/// key, and only when a server is willing to take the key) and the password.
/// Secrets stay in memory and never reach a message.
public final class Credentials: Sendable {
    public enum PasswordSource: Sendable {
        /// Ask once, on the terminal or through SSH_ASKPASS (`--ask-pass`).
        case prompt
        /// Read from a file only its owner can read (`--password-file`).
        case file(String)
    }

    /// Tries at a passphrase before a key is given up (OpenSSH's NumberOfPasswordPrompts).
    static let passphraseAttempts = 3

    public let prompt: SecretPrompt
    /// Where the password for `password`/`keyboard-interactive` logins comes from; nil: no password logins.
    public let passwordSource: PasswordSource?
    private let files = Locked<[String: Result<IdentityFile, IdentityFile.LoadError>]>([:])
    private let privateKeys = Locked<[String: Task<Result<PrivateKey, KeyUnavailable>, Never>]>([:])
    private let password = Locked<Task<Result<Secret, KeyUnavailable>, Never>?>(nil)

    /// Shared by connections whose settings name no other.
    public static let processDefault = Credentials()

    public init(prompt: SecretPrompt = SecretPrompt(), passwordSource: PasswordSource? = nil) {
        self.prompt = prompt
        self.passwordSource = passwordSource
    }

    /// Why a key or password cannot be used, in words for the failure report.
    struct KeyUnavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// The key file at `path`, read once per run.
    func identityFile(_ path: String) -> Result<IdentityFile, IdentityFile.LoadError> {
        files.withLock { files in
            if let known = files[path] { return known }
            let loaded = Result { try IdentityFile(path: path) }.mapError { $0 as? IdentityFile.LoadError ?? .init(description: "\($0)") }
            files[path] = loaded
            return loaded
        }
    }

    /// The decrypted key of `file`, asking for its passphrase the first time
    /// it is needed; every later caller shares that answer.
    func privateKey(_ file: IdentityFile) async -> Result<PrivateKey, KeyUnavailable> {
        let task = privateKeys.withLock { tasks in
            if let task = tasks[file.path] { return task }
            let prompt = self.prompt
            let task = Task { await Self.decrypt(file, prompt: prompt) }
            tasks[file.path] = task
            return task
        }
        return await task.value
    }

    private static func decrypt(_ file: IdentityFile, prompt: SecretPrompt) async -> Result<PrivateKey, KeyUnavailable> {
        do {
            guard file.isEncrypted else { return .success(try file.privateKey(passphrase: [])) }
            var question = "Enter passphrase for key '\(file.path)': "
            for _ in 0..<passphraseAttempts {
                guard var passphrase = await prompt.ask(question) else {
                    return .failure(KeyUnavailable(description: "passphrase-protected and no passphrase was given"))
                }
                defer { tasker_wipe(&passphrase, passphrase.count) }
                do {
                    return .success(try file.privateKey(passphrase: passphrase))
                } catch IdentityFile.PassphraseError.wrong {
                    question = "Bad passphrase, try again for \(file.path): "
                }
            }
            return .failure(KeyUnavailable(description: "wrong passphrase \(passphraseAttempts) times; key skipped"))
        } catch {
            return .failure(KeyUnavailable(description: "\(error)"))
        }
    }

    /// Why `path` cannot serve as a password file, or nil when it can.
    public static func problemWithPasswordFile(_ path: String) -> String? {
        do {
            _ = try Secret(passwordFile: path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The run's password, read or asked for once.
    func loginPassword() async -> Result<Secret, KeyUnavailable>? {
        guard let source = passwordSource else { return nil }
        let task = password.withLock { task in
            if let task { return task }
            let prompt = self.prompt
            let created = Task { await Self.readPassword(source, prompt: prompt) }
            task = created
            return created
        }
        return await task.value
    }

    private static func readPassword(_ source: PasswordSource, prompt: SecretPrompt) async -> Result<Secret, KeyUnavailable> {
        switch source {
        case .prompt:
            guard let answer = await prompt.ask("SSH password (used for every host that asks for one): ") else {
                return .failure(KeyUnavailable(description: "no password was given"))
            }
            return .success(Secret(answer))
        case .file(let path):
            return Result { try Secret(passwordFile: path) }.mapError { KeyUnavailable(description: "\($0)") }
        }
    }
}
