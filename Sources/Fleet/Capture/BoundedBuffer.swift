/// Keeps the first `headLimit` and the last `tailLimit` bytes of a stream and
/// counts every byte, so memory stays bounded whatever a command prints.
public struct BoundedBuffer: Sendable {
    public let headLimit: Int
    public let tailLimit: Int
    public private(set) var totalBytes: UInt64 = 0
    private var head: [UInt8] = []
    private var ring: [UInt8] = []
    /// Index in `ring` of the oldest tail byte once the ring is full.
    private var ringStart = 0

    public init(headLimit: Int = 64 << 10, tailLimit: Int = 64 << 10) {
        self.headLimit = max(0, headLimit)
        self.tailLimit = max(0, tailLimit)
    }

    /// True when bytes between the head and the tail were dropped.
    public var isTruncated: Bool {
        totalBytes > UInt64(head.count + ring.count)
    }

    public var omittedBytes: UInt64 {
        totalBytes - UInt64(head.count + ring.count)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += UInt64(bytes.count)
        var rest = bytes[...]
        if head.count < headLimit {
            let take = min(headLimit - head.count, rest.count)
            head.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
        }
        guard !rest.isEmpty, tailLimit > 0 else { return }
        if rest.count >= tailLimit {
            let last = UnsafeRawBufferPointer(rebasing: rest.suffix(tailLimit))
            if ring.count == tailLimit {
                ring.withUnsafeMutableBytes { $0.copyMemory(from: last) }
            } else {
                ring = Array(last)
            }
            ringStart = 0
            return
        }
        if ring.count < tailLimit {
            let room = tailLimit - ring.count
            ring.append(contentsOf: rest.prefix(room))
            rest = rest.dropFirst(room)
            if rest.isEmpty { return }
        }
        // The ring is full: overwrite the oldest bytes, wrapping at the end.
        ring.withUnsafeMutableBytes { storage in
            var source = UnsafeRawBufferPointer(rebasing: rest)
            while !source.isEmpty {
                let run = min(source.count, tailLimit - ringStart)
                UnsafeMutableRawBufferPointer(rebasing: storage[ringStart..<(ringStart + run)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[..<run]))
                ringStart = (ringStart + run) % tailLimit
                source = UnsafeRawBufferPointer(rebasing: source[run...])
            }
        }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The retained head bytes.
    public var headBytes: [UInt8] { head }

    /// The retained tail bytes, oldest first.
    public var tailBytes: [UInt8] {
        Array(ring[ringStart...] + ring[..<ringStart])
    }

    /// Head and tail as text; when bytes were dropped a marker line says how many.
    public var text: String {
        var bytes = head
        if isTruncated {
            let marker = "\n[... \(omittedBytes) bytes omitted ...]\n"
            bytes += Array(marker.utf8)
        }
        bytes += tailBytes
        return String(decoding: bytes, as: UTF8.self)
    }
}
