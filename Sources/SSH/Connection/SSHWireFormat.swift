/// Reads SSH wire-format fields (RFC 4251 §5): uint32 and length-prefixed strings.
struct SSHBufferReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= bytes.count - offset else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func readByte() -> UInt8? {
        readBytes(1)?.first
    }

    mutating func readUInt32() -> UInt32? {
        guard let raw = readBytes(4) else { return nil }
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readString() -> [UInt8]? {
        guard let length = readUInt32() else { return nil }
        return readBytes(Int(length))
    }

    /// An mpint's magnitude, big-endian, without leading zero bytes.
    mutating func readMPInt() -> [UInt8]? {
        guard let raw = readString() else { return nil }
        return Array(raw.drop { $0 == 0 })
    }
}

/// Builds SSH wire-format messages.
struct SSHBufferWriter {
    private(set) var bytes: [UInt8] = []

    mutating func writeByte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func writeUInt32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    mutating func writeString(_ value: [UInt8]) {
        writeUInt32(UInt32(value.count))
        bytes += value
    }

    /// A non-negative integer given as a big-endian magnitude (leading zeros allowed).
    mutating func writeMPInt(_ magnitude: [UInt8]) {
        let trimmed = Array(magnitude.drop { $0 == 0 })
        writeString(trimmed.first.map { $0 & 0x80 != 0 } == true ? [0] + trimmed : trimmed)
    }
}
