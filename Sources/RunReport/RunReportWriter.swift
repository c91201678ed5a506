import Fleet
import Foundation
import Locking

/// `--report FILE.html`: folds the run's events into a history as they come
/// (secrets masked first) and writes the page when the run ends.
public final class RunReportWriter: RunEventSubscriber {
    public let path: String
    private let masker: SecretMasker
    private let history = Locked(RunHistory())

    /// Checks now that `path` can be written, so a bad path fails before the run.
    public init(path: String, masker: SecretMasker = SecretMasker()) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw FleetError.badInput("cannot write report \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        self.path = path
        self.masker = masker
    }

    public func receive(_ event: RunEvent) {
        let masked = event.masked(by: masker)
        history.withLock { $0.apply(masked) }
    }

    /// Writes the page of everything received so far.
    public func write() throws {
        let page = ReportPage.render(history.withLock { $0 })
        do {
            try page.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw FleetError.badInput("cannot write report \(path): \(error.localizedDescription)")
        }
    }
}
