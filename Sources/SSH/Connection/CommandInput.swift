/// Bytes for a command's standard input, in chunks asked for in order; nil
/// after the last. Several commands may read the same source at once (one
/// local read shared by many hosts).
public protocol CommandInput: Sendable {
    func chunk(_ index: Int) async throws -> [UInt8]?
}

/// What of a command's input is still to be written to its channel. Writing
/// starts at once, or — through become — once the become program is done.
struct PendingInput {
    /// nil: the command gets EOF as soon as input starts.
    let source: (any CommandInput)?
    var started = false
    var next = 0
    var bytes: [UInt8] = []
    var offset = 0
    /// Every chunk was written and EOF sent.
    var finished = false

    init(_ source: (any CommandInput)?) {
        self.source = source
    }

    var hasBytes: Bool { offset < bytes.count }
}
