import Foundation

/// NDJSON as the tests read it: one JSON object per non-empty line.
public enum NDJSON {
    public struct NotAnObject: Error, CustomStringConvertible {
        public var line: String
        public var description: String { "not a JSON object: \(line)" }
    }

    public static func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw NotAnObject(line: String(line))
            }
            return object
        }
    }

    public static func objects(inFile path: String) throws -> [[String: Any]] {
        try objects(String(contentsOfFile: path, encoding: .utf8))
    }
}
