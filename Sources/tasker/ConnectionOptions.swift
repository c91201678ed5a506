import ArgumentParser
import Fleet

/// `tasker exec`'s connection options: the shared SSH options plus the user,
/// port and channel count, named as `ssh` and `pdsh` name them.
struct ConnectionOptions: ParsableArguments {
    @OptionGroup var ssh: SSHOptions

    @Option(name: .customShort("l"), help: ArgumentHelp("Remote user.", valueName: "user"))
    var user: String?

    @Option(name: .customShort("p"), help: ArgumentHelp("Remote port.", valueName: "port"))
    var port: Int?

    @Option(name: .long, help: ArgumentHelp("Channels open at once per connection (1-9).", valueName: "n"))
    var maxChannels: Int?

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("invalid port \(port) (expected 1-65535)") }
        if let maxChannels, !(1...9).contains(maxChannels) { throw ValidationError("--max-channels must be 1-9 (sshd allows 10 sessions per connection; Tasker keeps one for killing timed-out commands)") }
        if let user, user.isEmpty { throw ValidationError("-l needs a user name") }
    }

    func makeResolver() throws -> ConnectionResolver {
        try ssh.makeResolver(user: user, port: port, maxChannels: maxChannels)
    }
}
