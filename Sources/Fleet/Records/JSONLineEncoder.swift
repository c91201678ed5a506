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
public enum JSONLineEncoder {
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let root = Node()
        try value.encode(to: NodeEncoder(node: root, codingPath: []))
        var output: [UInt8] = []
        output.reserveCapacity(256)
        root.write(to: &output)
        return output
    }
}

/// One JSON object, array or scalar being built. Scalars are stored in their
/// container as they come; only nested containers are nodes of their own, so
/// a container handed out earlier can still add to them.
private final class Node {
    enum Value {
        case literal(String)
        case string(String)
        case node(Node)
    }

    enum Kind { case empty, object, array, scalar }

    var kind = Kind.empty
    /// An object's members in the order written (sorted, the last of equal keys kept, when written out).
    var members: [(key: String, value: Value)] = []
    var elements: [Value] = []
    var scalar = Value.literal("null")

    func asObject() -> Node {
        kind = .object
        return self
    }

    func asArray() -> Node {
        kind = .array
        return self
    }

    func set(_ value: Value) {
        kind = .scalar
        scalar = value
    }

    func add(_ key: String, _ value: Value) {
        members.append((key, value))
    }

    func child(_ key: String) -> Node {
        let node = Node()
        members.append((key, .node(node)))
        return node
    }

    func append(_ value: Value) {
        elements.append(value)
    }

    func appended() -> Node {
        let node = Node()
        elements.append(.node(node))
        return node
    }

    func write(to output: inout [UInt8]) {
        switch kind {
        case .empty:
            output.append(contentsOf: "{}".utf8)
        case .scalar:
            Self.write(scalar, to: &output)
        case .object:
            output.append(UInt8(ascii: "{"))
            let order = members.indices.sorted { left, right in
                let (a, b) = (members[left].key, members[right].key)
                return a == b ? left < right : a.utf8.lexicographicallyPrecedes(b.utf8)
            }
            var first = true
            for (position, index) in order.enumerated() {
                if position + 1 < order.count, members[order[position + 1]].key == members[index].key { continue }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(members[index].key, to: &output)
                output.append(UInt8(ascii: ":"))
                Self.write(members[index].value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .array:
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    private static func write(_ value: Value, to output: inout [UInt8]) {
        switch value {
        case .literal(let text): output.append(contentsOf: text.utf8)
        case .string(let text): writeString(text, to: &output)
        case .node(let node): node.write(to: &output)
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

    /// The value of a scalar type, or nil for a type that encodes itself into a node of its own.
    /// Types are compared, not cast: a cast to a protocol (`any BinaryInteger`) is a conformance
    /// look-up for every nested value, which cost more than writing the value.
    static func value<T: Encodable>(of value: T) throws -> Node.Value? {
        if T.self == String.self { return .string(value as! String) }
        if T.self == EncodedJSON.self { return .literal(String(decoding: (value as! EncodedJSON).bytes, as: UTF8.self)) }
        if T.self == Bool.self { return .literal(value as! Bool ? "true" : "false") }
        if T.self == Int.self { return .literal(String(value as! Int)) }
        if T.self == Int32.self { return .literal(String(value as! Int32)) }
        if T.self == Int64.self { return .literal(String(value as! Int64)) }
        if T.self == UInt64.self { return .literal(String(value as! UInt64)) }
        if T.self == UInt32.self { return .literal(String(value as! UInt32)) }
        if T.self == UInt.self { return .literal(String(value as! UInt)) }
        if T.self == Int16.self { return .literal(String(value as! Int16)) }
        if T.self == UInt16.self { return .literal(String(value as! UInt16)) }
        if T.self == Int8.self { return .literal(String(value as! Int8)) }
        if T.self == UInt8.self { return .literal(String(value as! UInt8)) }
        if T.self == Double.self { return .literal(try literal(value as! Double)) }
        if T.self == Float.self { return .literal(try literal(Double(value as! Float))) }
        return nil
    }

    static func encode(_ value: some Encodable, into node: Node, codingPath: [any CodingKey]) throws {
        try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
    }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.add(key.stringValue, .literal("null")) }

    // The records' scalars, without the dynamic casts of the generic path.
    mutating func encode(_ value: String, forKey key: Key) throws { node.add(key.stringValue, .string(value)) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.add(key.stringValue, .literal(value ? "true" : "false")) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.add(key.stringValue, .literal(String(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { node.add(key.stringValue, .literal(String(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { node.add(key.stringValue, .literal(String(value))) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if let scalar = try Scalar.value(of: value) { return node.add(key.stringValue, scalar) }
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
    var count: Int { node.elements.count }

    mutating func encodeNil() throws { node.append(.literal("null")) }
    mutating func encode(_ value: String) throws { node.append(.string(value)) }
    mutating func encode(_ value: Int) throws { node.append(.literal(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let scalar = try Scalar.value(of: value) { return node.append(scalar) }
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

    mutating func encodeNil() throws { node.set(.literal("null")) }
    mutating func encode(_ value: String) throws { node.set(.string(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let scalar = try Scalar.value(of: value) { return node.set(scalar) }
        try Scalar.encode(value, into: node, codingPath: codingPath)
    }
}

/// A value JSONLineEncoder wrote before, kept as its text and written again as it is: large records
/// that do not change (a finished task's result) are encoded once, not on every save of the document.
public struct EncodedJSON: Encodable, Sendable, Equatable {
    public let bytes: [UInt8]

    public init(_ value: some Encodable) throws {
        bytes = try JSONLineEncoder.encode(value)
    }

    public func encode(to encoder: any Encoder) throws {
        throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath,
                                                     debugDescription: "pre-encoded JSON is written by JSONLineEncoder only"))
    }
}
