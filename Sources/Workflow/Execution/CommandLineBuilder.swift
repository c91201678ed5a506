import Fleet
import TextFormats

/// Builds the argv of a task: `local` runs the command directly with its
/// arguments split like a POSIX shell would (no shell involved); other types
/// fill their command template.
public enum CommandLineBuilder {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public static func argv(execType: String, config: ExecutionTypes, command: String, arguments: String,
                            hostname: String) throws -> [String] {
        if execType == "local" || ExecutionTypes.isSSH(execType) {
            return [command] + (try words(arguments))
        }
        guard let type = config.types[execType] else {
            throw Failure(description: "execution type '\(execType)' not found in configuration")
        }
        var argv: [String] = []
        for element in type.commandTemplate {
            if element == "{arguments_split}" {
                argv += try words(arguments)
                continue
            }
            argv.append(try format(element, values: [
                "binary": type.binary ?? "", "hostname": hostname, "command": command, "arguments": arguments,
            ]))
        }
        return argv
    }

    static func format(_ template: String, values: [String: String]) throws -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw Failure(description: "unclosed '{' in command template element '\(template)'")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard let value = values[name] else {
                throw Failure(description: "unknown placeholder {\(name)} in command template")
            }
            output += value
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }

    /// The words of `arguments`, split as POSIX shells do (no comments, no expansion).
    public static func words(_ text: String) throws -> [String] {
        do { return try ShellWords.split(text, comments: false) } catch {
            throw Failure(description: "cannot split arguments: \(error)")
        }
    }
}
