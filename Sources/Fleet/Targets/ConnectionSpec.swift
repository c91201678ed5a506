import SSH

/// One host, fully resolved: the name it is reported under and every
/// connection setting, merged once before anything connects.
public struct ConnectionSpec: Sendable {
    /// The name the user targeted (an inventory host, alias or address).
    public var name: String
    public var settings: SSHConnectionSettings

    public init(name: String, settings: SSHConnectionSettings) {
        self.name = name
        self.settings = settings
    }

    /// Connections are shared by specs that would open the same session.
    var poolKey: String {
        "\(settings.user)@\(settings.address):\(settings.port)|\(settings.identityFiles.joined(separator: ","))"
    }
}
