/// Errors of the fleet layer that stop a run before anything is executed.
public enum FleetError: Error, CustomStringConvertible, Sendable {
    /// Malformed targets, option values or files; the CLI exits 2.
    case badInput(String)

    public var description: String {
        switch self {
        case .badInput(let message): return message
        }
    }
}
