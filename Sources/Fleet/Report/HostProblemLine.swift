/// The one-line account of a host that did not succeed, e.g.
/// `node003: exit code 1` or `node004: unreachable: connect: connection refused`.
public enum HostProblemLine {
    public static func text(for result: HostRecord) -> String? {
        switch result.status {
        case .ok, .unchanged:
            return nil
        case .failed:
            if let signal = result.signal { return "\(result.host): killed by signal \(signal)" }
            if result.exitCode == nil, let error = result.error { return "\(result.host): failed: \(error)" }
            return "\(result.host): exit code \(result.exitCode.map(String.init) ?? "unknown")"
        default:
            return "\(result.host): \(result.status.rawValue): \(result.error ?? "no detail")"
        }
    }
}
