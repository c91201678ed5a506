/// Writes an Encodable value as one line of JSON — the text JSONEncoder writes
/// with `.sortedKeys` and `.withoutEscapingSlashes` — at a fraction of its
/// cost: a journal writes a few events per host, and JSONEncoder's
/// per-value bookkeeping (coding paths, option lookups, boxed containers)
/// made the journal the largest part of a run's CPU after SSH itself.
///
/// Values are gathered into a small tree (keys are sorted when written, and
/// a type may open its keyed container more than once, as `RunEvent` does)
/// and then written out in one pass. Numbers, strings, booleans, null,
/// arrays and objects only: the records hold nothing else (no Date, no Data).
struct JSONLineEncoder {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let root = Node()
        try value.encode(to: NodeEncoder(node: root, codingPath: []))
        var output: [UInt8] = []
        output.reserveCapacity(256)
        root.write(to: &output)
        return output
    }
}

/// One JSON value being built; objects and arrays hold their members as nodes
/// so a container handed out earlier can still add to them.
private final class Node {
    enum Content {
        case empty
        case literal(String)
        case string(String)
        case object([String: Node])
        case array([Node])
    }

    var content = Content.empty

    func asObject() -> Node {
        if case .object = content { return self }
        content = .object([:])
        return self
    }

    func asArray() -> Node {
        if case .array = content { return self }
        content = .array([])
        return self
    }

    func child(_ key: String) -> Node {
        let node = Node()
        if case .object(var members) = content {
            content = .empty  // keeps the dictionary uniquely referenced while it changes
            members[key] = node
            content = .object(members)
        }
        return node
    }

    func appended() -> Node {
        let node = Node()
        if case .array(var elements) = content {
            content = .empty
            elements.append(node)
            content = .array(elements)
        }
        return node
    }

    var count: Int {
        if case .array(let elements) = content { return elements.count }
        return 0
    }

    func write(to output: inout [UInt8]) {
        switch content {
        case .empty:
            output.append(contentsOf: "{}".utf8)
        case .literal(let text):
            output.append(contentsOf: text.utf8)
        case .string(let text):
            Self.writeString(text, to: &output)
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Quotes and backslashes escaped, control characters as JSONEncoder writes them; everything else as it is.
    static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x08: output.append(contentsOf: #"\b"#.utf8)
            case 0x0C: output.append(contentsOf: #"\f"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

private struct NodeEncoder: Encoder {
    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedNodeContainer(node: node.asObject(), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedNodeContainer(node: node.asArray(), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }
}

/// How each scalar becomes JSON text, shared by the three containers.
private enum Scalar {
    static func literal(_ value: Double) throws -> String {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) is not a JSON number"))
        }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func encode(_ value: some Encodable, into node: Node, codingPath: [any CodingKey]) throws {
        switch value {
        case let text as String: node.content = .string(text)
        case let flag as Bool: node.content = .literal(flag ? "true" : "false")
        case let number as any BinaryInteger: node.content = .literal("\(number)")
        case let number as Double: node.content = .literal(try literal(number))
        case let number as Float: node.content = .literal(try literal(Double(number)))
        default: try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
        }
    }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.child(key.stringValue).content = .literal("null") }

    // The records' scalars, without the dynamic casts of the generic path.
    mutating func encode(_ value: String, forKey key: Key) throws { node.child(key.stringValue).content = .string(value) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.child(key.stringValue).content = .literal(value ? "true" : "false") }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.child(key.stringValue).content = .literal(String(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { node.child(key.stringValue).content = .literal(String(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { node.child(key.stringValue).content = .literal(String(value)) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try Scalar.encode(value, into: node.child(key.stringValue), codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: node.child(key.stringValue).asObject(), codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedNodeContainer(node: node.child(key.stringValue).asArray(), codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(node: node.child("super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws { node.appended().content = .literal("null") }
    mutating func encode(_ value: String) throws { node.appended().content = .string(value) }
    mutating func encode(_ value: Int) throws { node.appended().content = .literal(String(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try Scalar.encode(value, into: node.appended(), codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: node.appended().asObject(), codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedNodeContainer(node: node.appended().asArray(), codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(node: node.appended(), codingPath: codingPath)
    }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .literal("null") }
    mutating func encode(_ value: String) throws { node.content = .string(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try Scalar.encode(value, into: node, codingPath: codingPath)
    }
}
