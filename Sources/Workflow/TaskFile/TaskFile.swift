import Foundation

/// A TASKER task file: file-defined arguments, global variables and task blocks.
public struct TaskFile: Sendable {
    /// Task field names: in the globals zone such lines are skipped, not globals (§2.3).
    public static let taskFieldNames: Set<String> = Set(TaskField.allCases.filter(\.isReferenceField).map(\.rawValue) + ["task"])

    public var path: String
    /// The file's bytes, for hashes (report ID, recovery checks).
    public var contents: [UInt8] = []
    public var arguments: FileArguments
    public var globals: [GlobalVariable]
    public var tasks: [TaskDefinition]
    public var warnings: [String]

    public func task(_ id: Int) -> TaskDefinition? { tasks.first { $0.id == id } }

    /// A copy whose globals take these values (auto-recovery keeps saved values of vanished variables).
    public func overridingGlobals(_ values: [String: String]) -> TaskFile {
        var copy = self
        for index in copy.globals.indices {
            if let value = values[copy.globals[index].name] { copy.globals[index].value = value }
        }
        return copy
    }

    public var globalValues: [String: String] {
        Dictionary(globals.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Reads a task file. Errors carry TASKER's exit codes: 1 unreadable, 2 bad
    /// file argument, 20 bad global or task ID, 24 no tasks.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            strictEnvironment: Bool = false) throws -> TaskFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TaskFileError(exitCode: 1, "\(path): cannot read task file")
        }
        var file = try parse(String(decoding: data, as: UTF8.self), path: path, environment: environment,
                             strictEnvironment: strictEnvironment)
        file.contents = [UInt8](data)
        return file
    }

    public static func parse(_ text: String, path: String, environment: [String: String] = [:],
                             strictEnvironment: Bool = false) throws -> TaskFile {
        let lines = TaskFileLine.lines(of: text)
        let arguments = try FileArguments.read(lines, path: path)
        var warnings = arguments.warnings
        var globals: [GlobalVariable] = []
        var tasks: [TaskDefinition] = []
        var current: (idText: String, line: Int, fields: [(String, String, Int)])?

        func close() throws {
            guard let block = current else { return }
            guard let id = PythonSemantics.int(block.idText) else {
                throw TaskFileError(exitCode: 20, "\(path):\(block.line): task ID '\(block.idText)' is not a valid integer")
            }
            if tasks.contains(where: { $0.id == id }) {
                throw TaskFileError(exitCode: 20, "\(path):\(block.line): duplicate task ID \(id)")
            }
            tasks.append(TaskDefinition(id: id, idText: block.idText, line: block.line,
                                        written: block.fields.map { TaskDefinition.WrittenField(key: $0.0, value: $0.1, line: $0.2) }))
        }

        for line in lines {
            if line.text.hasPrefix("-") { continue }
            guard let (key, value) = line.keyValue else {
                warnings.append("\(path):\(line.number): line does not contain key=value: \(line.text)")
                continue
            }
            if key == "task" {
                try close()
                current = (value, line.number, [])
                continue
            }
            if current != nil {
                current!.fields.append((key, value, line.number))
                continue
            }
            if taskFieldNames.contains(key) {
                warnings.append("\(path):\(line.number): key '\(key)' outside a task definition is ignored")
                continue
            }
            let variable = try makeGlobal(key, value, line: line.number, path: path, environment: environment,
                                          strictEnvironment: strictEnvironment)
            globals.removeAll { $0.name == key }
            globals.append(variable)
        }
        try close()
        if tasks.isEmpty { throw TaskFileError(exitCode: 24, "\(path): no tasks found (a task starts with task=<id>)") }
        return TaskFile(path: path, contents: Array(text.utf8), arguments: arguments, globals: globals, tasks: tasks, warnings: warnings)
    }

    private static func makeGlobal(_ name: String, _ raw: String, line: Int, path: String,
                                   environment: [String: String], strictEnvironment: Bool) throws -> GlobalVariable {
        let references = PythonSemantics.referencedVariables(raw)
        if strictEnvironment, let bad = references.first(where: { !$0.hasPrefix("TASKER_") }) {
            throw TaskFileError(exitCode: 20, "\(path):\(line): global \(name) references $\(bad); with --strict-env-validation only TASKER_* variables are allowed")
        }
        let expanded = PythonSemantics.expandVariables(raw, environment: environment)
            .trimmingCharacters(in: .whitespaces)
        let variable = GlobalVariable(name: name, value: expanded, raw: raw, line: line,
                                      unsetReferences: references.filter { environment[$0] == nil })
        try GlobalVariableRules.check(variable, path: path)
        return variable
    }
}
