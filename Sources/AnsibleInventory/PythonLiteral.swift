/// Ansible types INI values with Python's `ast.literal_eval`, keeping the raw
/// string when that fails. This evaluates the same literal subset: numbers,
/// quoted strings, `True`/`False`/`None`, lists, tuples, dicts and sets.
enum PythonLiteral {
    static func value(of text: String) -> InventoryValue {
        var parser = Parser(Array(text.unicodeScalars))
        parser.skipSpace()
        guard let value = try? parser.parseExpression() else { return .string(text) }
        parser.skipSpace()
        return parser.atEnd ? value : .string(text)
    }

    private struct Failure: Error {}

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { index >= scalars.count }
        var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        mutating func skipSpace() {
            while let c = current, c == " " || c == "\t" || c == "\n" { index += 1 }
        }

        mutating func parseExpression() throws -> InventoryValue {
            skipSpace()
            guard let c = current else { throw Failure() }
            switch c {
            case "-", "+":
                index += 1
                skipSpace()
                let operand = try parseExpression()
                switch operand {
                case .int(let value): return .int(c == "-" ? -value : value)
                case .float(let value): return .float(c == "-" ? -value : value)
                case .bool(let value): return .int(c == "-" ? (value ? -1 : 0) : (value ? 1 : 0))
                default: throw Failure()
                }
            case "'", "\"": return try parseStrings()
            case "[": return .list(try parseSequence(closing: "]"))
            case "(": return .list(try parseSequence(closing: ")"))
            case "{": return try parseBraces()
            default:
                if c.properties.numericType != nil || c == "." { return try parseNumber() }
                return try parseName()
            }
        }

        /// Adjacent string literals concatenate, as in Python.
        mutating func parseStrings() throws -> InventoryValue {
            var text = ""
            while let c = current, c == "'" || c == "\"" {
                text += try parseString(quote: c)
                skipSpace()
            }
            return .string(text)
        }

        mutating func parseString(quote: Unicode.Scalar) throws -> String {
            let triple = index + 2 < scalars.count && scalars[index + 1] == quote && scalars[index + 2] == quote
            index += triple ? 3 : 1
            var out = String.UnicodeScalarView()
            while true {
                guard let c = current else { throw Failure() }
                if c == quote {
                    if !triple { index += 1; break }
                    if index + 2 < scalars.count, scalars[index + 1] == quote, scalars[index + 2] == quote {
                        index += 3
                        break
                    }
                }
                if c == "\n", !triple { throw Failure() }
                if c == "\\" {
                    index += 1
                    guard let e = current else { throw Failure() }
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "\\": out.append("\\")
                    case "'": out.append("'")
                    case "\"": out.append("\"")
                    case "0": out.append("\u{0}")
                    case "\n": break
                    default:
                        out.append("\\")
                        out.append(e)
                    }
                    index += 1
                    continue
                }
                out.append(c)
                index += 1
            }
            return String(out)
        }

        mutating func parseSequence(closing: Unicode.Scalar) throws -> [InventoryValue] {
            index += 1
            var items: [InventoryValue] = []
            skipSpace()
            if current == closing {
                index += 1
                return items
            }
            while true {
                items.append(try parseExpression())
                skipSpace()
                if current == "," {
                    index += 1
                    skipSpace()
                    if current == closing {
                        index += 1
                        return items
                    }
                    continue
                }
                if current == closing {
                    index += 1
                    return items
                }
                throw Failure()
            }
        }

        mutating func parseBraces() throws -> InventoryValue {
            index += 1
            skipSpace()
            if current == "}" {
                index += 1
                return .dict([])
            }
            let first = try parseExpression()
            skipSpace()
            if current != ":" {
                // A set literal: JSON has no sets; keep it as a list.
                var items = [first]
                while current == "," {
                    index += 1
                    skipSpace()
                    if current == "}" { break }
                    items.append(try parseExpression())
                    skipSpace()
                }
                guard current == "}" else { throw Failure() }
                index += 1
                return .list(items)
            }
            var pairs: [(String, InventoryValue)] = []
            var key = first
            while true {
                guard current == ":" else { throw Failure() }
                index += 1
                let value = try parseExpression()
                guard let keyText = key.scalarText else { throw Failure() }
                if let existing = pairs.firstIndex(where: { $0.0 == keyText }) { pairs[existing].1 = value } else { pairs.append((keyText, value)) }
                skipSpace()
                if current == "," {
                    index += 1
                    skipSpace()
                    if current == "}" { break }
                    key = try parseExpression()
                    skipSpace()
                    continue
                }
                break
            }
            guard current == "}" else { throw Failure() }
            index += 1
            return .dict(pairs)
        }

        mutating func parseName() throws -> InventoryValue {
            var name = ""
            while let c = current, c.properties.isAlphabetic || c == "_" || c.properties.numericType != nil {
                name.unicodeScalars.append(c)
                index += 1
            }
            switch name {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            default: throw Failure()
            }
        }

        mutating func parseNumber() throws -> InventoryValue {
            var token = ""
            while let c = current, c.properties.isAlphabetic || c.properties.numericType != nil || c == "." || c == "_"
                || ((c == "+" || c == "-") && (token.last == "e" || token.last == "E") && !token.lowercased().hasPrefix("0x")) {
                token.unicodeScalars.append(c)
                index += 1
            }
            let lower = token.lowercased()
            if lower.contains("__") || lower.hasSuffix("_") || lower.hasPrefix("_") { throw Failure() }
            let digits = lower.replacingOccurrences(of: "_", with: "")
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
                guard let value = Int(digits.dropFirst(2), radix: radix) else { throw Failure() }
                return .int(value)
            }
            if digits.allSatisfy(\.isNumber) {
                // Python 3 rejects leading zeros in decimal integers ("01"), except zero itself.
                if digits.count > 1, digits.hasPrefix("0"), digits.contains(where: { $0 != "0" }) { throw Failure() }
                guard let value = Int(digits) else { throw Failure() }
                return .int(value)
            }
            if digits.hasSuffix("j") { throw Failure() }
            guard digits.contains(where: \.isNumber), let value = Double(digits) else { throw Failure() }
            return .float(value)
        }
    }
}
