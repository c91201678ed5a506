import ArgumentParser
import Glibc

/// `--progress` / `--no-progress`: the one-line progress on stderr.
struct ProgressOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo,
          help: "Show a progress line on stderr (default: when stderr is a terminal; never with --json).")
    var progress: Bool?

    /// The progress line of a run of `hosts` hosts, if it shows one; `minimumHosts` is where it starts to
    /// help unasked. Transfers also show bytes, and the time left when `totalBytes` is known.
    func line(_ operation: String, json: Bool, hosts: Int, minimumHosts: Int = 1, transfers: Bool = false,
              totalBytes: UInt64? = nil) -> ProgressLine? {
        guard !json, progress ?? (isatty(2) != 0 && hosts >= minimumHosts) else { return nil }
        return ProgressLine(operation: operation, hosts: hosts, transfers: transfers, totalBytes: totalBytes)
    }
}
