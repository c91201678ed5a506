import ArgumentParser
import Fleet
import SSH

extension Become.Method: ExpressibleByArgument {}

/// Running remote commands as another user, named as Ansible names it. Each
/// option given wins over an inventory host's `ansible_become*` variables.
struct BecomeOptions: ParsableArguments {
    @Flag(name: .long, help: "Run commands as --become-user (default root) through --become-method (default sudo).")
    var become = false

    @Option(name: .long, help: ArgumentHelp("User to become (default root; implies nothing without --become or ansible_become).", valueName: "user"))
    var becomeUser: String?

    @Option(name: .long, help: ArgumentHelp("sudo (default), su or doas.", valueName: "method"))
    var becomeMethod: Become.Method?

    @Flag(name: [.customShort("K"), .long], help: "Ask once for the become password (on the terminal, or through SSH_ASKPASS).")
    var askBecomePass = false

    @Option(name: .long, help: ArgumentHelp("Read the become password from this file (first line; it must be readable by its owner only).", valueName: "file"))
    var becomePasswordFile: String?

    func validate() throws {
        if askBecomePass, becomePasswordFile != nil {
            throw ValidationError("--ask-become-pass and --become-password-file cannot be used together")
        }
        if let becomeUser, becomeUser.isEmpty { throw ValidationError("--become-user needs a user name") }
    }

    /// What the command line says about become; the password is read or asked for here, once per run.
    func settings() throws -> BecomeSettings {
        var settings = BecomeSettings(enabled: become ? true : nil, method: becomeMethod, user: becomeUser)
        if let becomePasswordFile {
            do { settings.password = try Secret(passwordFile: becomePasswordFile) } catch {
                throw UsageError("\(error)")
            }
        } else if askBecomePass {
            guard let answer = SecretPrompt().askNow("BECOME password: ") else { throw UsageError("no become password was given") }
            settings.password = Secret(answer)
        }
        return settings
    }
}
