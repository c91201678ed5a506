import Foundation

/// TASKER is a Python program; task files rely on a few of Python's
/// conversions. These reproduce them exactly where behaviour depends on it.
enum PythonSemantics {
    /// `int(text)`: surrounding whitespace, an optional sign, digits with single
    /// underscores between them.
    static func int(_ text: String) -> Int? {
        var body = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber, let last = body.last, last != "_" else { return nil }
        var digits = ""
        var previousUnderscore = false
        for character in body {
            if character == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            guard character.isASCII, character.isNumber else { return nil }
            previousUnderscore = false
            digits.append(character)
        }
        guard let value = Int(digits) else { return nil }
        return negative ? -value : value
    }

    /// `float(text)`: also `.5`, `1e3`, `inf`, `nan`.
    static func float(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "_", with: "")
        switch trimmed.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: break
        }
        guard !trimmed.isEmpty, trimmed.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
        return Double(trimmed)
    }

    /// `repr(float)`: `1.5`, `1000.0`, `1e+16`.
    static func floatText(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e16 { return String(Int(value)) + ".0" }
        return "\(value)"
    }

    /// `str.rstrip("\n")`.
    /// Python's `needle in haystack`: a search by code points. Foundation's
    /// `contains` is not used: it crashes on some texts with NUL characters,
    /// which remote output may well hold.
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        needle.isEmpty || haystack.unicodeScalars.firstRange(of: needle.unicodeScalars) != nil
    }

    static func dropTrailingNewlines(_ text: String) -> String {
        var result = Substring(text)
        while result.hasSuffix("\n") { result = result.dropLast() }
        return String(result)
    }

    /// `os.path.expandvars`: `$NAME` (`[A-Za-z0-9_]+`) and `${NAME}` replaced when
    /// the variable exists; everything else stays as written.
    static func expandVariables(_ text: String, environment: [String: String]) -> String {
        guard text.contains("$") else { return text }
        let characters = Array(text)
        var output = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "$", index + 1 < characters.count else {
                output.append(character)
                index += 1
                continue
            }
            var end = index + 1
            var name = ""
            if characters[end] == "{" {
                guard let close = characters[(end + 1)...].firstIndex(of: "}") else {
                    output.append(character)
                    index += 1
                    continue
                }
                name = String(characters[(end + 1)..<close])
                end = close + 1
            } else {
                while end < characters.count, characters[end].isASCII, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" {
                    name.append(characters[end])
                    end += 1
                }
                if name.isEmpty {
                    output.append(character)
                    index += 1
                    continue
                }
            }
            if let value = environment[name] {
                output += value
            } else {
                output += String(characters[index..<end])
            }
            index = end
        }
        return output
    }

    /// Names referenced as `$NAME` / `${NAME}` with NAME = `[A-Za-z_][A-Za-z0-9_]*`.
    static func referencedVariables(_ text: String) -> [String] {
        var names: [String] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            defer { index += 1 }
            guard characters[index] == "$", index + 1 < characters.count else { continue }
            var cursor = index + 1
            let braced = characters[cursor] == "{"
            if braced { cursor += 1 }
            var name = ""
            while cursor < characters.count, characters[cursor].isASCII,
                  characters[cursor].isLetter || characters[cursor].isNumber || characters[cursor] == "_" {
                name.append(characters[cursor])
                cursor += 1
            }
            guard let first = name.first, first.isLetter || first == "_" else { continue }
            if braced, cursor >= characters.count || characters[cursor] != "}" { continue }
            names.append(name)
        }
        return names
    }
}
