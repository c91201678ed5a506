/// Cuts a byte stream into complete lines for live display. A partial line
/// waits for its newline (up to `maximumLineLength`, then it is emitted as is)
/// and is flushed at the end.
public struct LineSplitter: Sendable {
    public let maximumLineLength: Int
    private var pending: [UInt8] = []

    public init(maximumLineLength: Int = 64 << 10) {
        self.maximumLineLength = maximumLineLength
    }

    /// Calls `emit` with each complete line, without its newline.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (ArraySlice<UInt8>) -> Void) {
        var rest = bytes[...]
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            if pending.isEmpty {
                emit(ArraySlice(rest[..<newline]))
            } else {
                pending.append(contentsOf: rest[..<newline])
                emit(pending[...])
                pending.removeAll(keepingCapacity: true)
            }
            rest = rest[(newline + 1)...]
        }
        pending.append(contentsOf: rest)
        if pending.count >= maximumLineLength {
            emit(pending[...])
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Emits what is left of an unterminated last line.
    public mutating func flush(emit: (ArraySlice<UInt8>) -> Void) {
        if !pending.isEmpty { emit(pending[...]) }
        pending.removeAll()
    }
}
