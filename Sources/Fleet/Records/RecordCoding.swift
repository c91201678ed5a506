import Foundation

/// How run records and events are written and read as JSON: one line each,
/// keys sorted (so a line's text is the same for the same record), slashes
/// as they are. Reading names the field that is missing or wrong.
public enum RecordCoding {
    /// One line of JSON, without its newline.
    public static func line(_ value: some Encodable) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// The line's UTF-8 bytes (what JSONEncoder writes with sorted keys and slashes unescaped).
    public static func bytes(_ value: some Encodable) -> [UInt8] {
        // The records hold only strings, integers, booleans, and lists and objects of them: encoding cannot fail.
        try! JSONLineEncoder.encode(value)
    }

    /// Decodes `data`; a failure says which field and why, in one line.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(RecordError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw RecordError(error)
        } catch {
            throw RecordError(field: nil, problem: "\(error)")
        }
    }
}

/// A record or event that could not be read: the field (a dotted path, nil for the whole line) and what is wrong with it.
public struct RecordError: Error, Equatable, CustomStringConvertible {
    public var field: String?
    public var problem: String

    public init(field: String?, problem: String) {
        self.field = field
        self.problem = problem
    }

    init(_ error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String? {
            keys.isEmpty ? nil : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(field: path(context.codingPath + [key]), problem: "missing")
        case .valueNotFound(_, let context):
            self.init(field: path(context.codingPath), problem: "is null")
        case .typeMismatch(let type, let context):
            self.init(field: path(context.codingPath), problem: "is not \(Self.describe(type))")
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            self.init(field: path(context.codingPath),
                      problem: context.codingPath.isEmpty ? "not JSON (\(underlying ?? context.debugDescription))" : context.debugDescription)
        @unknown default:
            self.init(field: nil, problem: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int32.Type, is UInt64.Type: return "an integer"
        case is [String].Type: return "a list of strings"
        default: return "of the right type (\(type))"
        }
    }

    public var description: String {
        field.map { "field '\($0)': \(problem)" } ?? problem
    }
}
