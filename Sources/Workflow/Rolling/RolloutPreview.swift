/// What `--show-plan` and a dry run say of a rollout before it starts: its batches
/// with their hosts, and the pipeline each host runs.
enum RolloutPreview {
    /// Indented lines under the task's plan line; the batches when the pattern can be resolved
    /// now (without results of earlier tasks).
    static func lines(_ task: TaskDefinition, _ rolling: TaskBody.Rolling, file: TaskFile, transport: (any TaskTransport)?) -> [String] {
        let resolver = PlaceholderResolver(globals: file.globalValues)
        let steps: [TaskDefinition] = switch rolling.steps {
        case .itself: [task]
        case .listed(let text):
            (text ?? "").split(separator: ",").compactMap { PythonSemantics.int($0.trimmingCharacters(in: .whitespaces)).flatMap(file.task) }
        }
        var lines = ["pipeline: " + steps.map { step in
            let command = [step.command, step.arguments].compactMap { $0 }.joined(separator: " ")
            return "\(step.id) (\(step.exec ?? ExecutionTypes.ssh): \(command))"
        }.joined(separator: " → ")]
        let (pattern, complete) = resolver.resolve(rolling.hosts ?? "")
        guard complete, let transport, let hosts = try? transport.hosts(matching: pattern).hosts else {
            return lines + ["batches: decided when the block runs (hosts=\(rolling.hosts ?? ""))"]
        }
        var start = 0
        for (index, size) in RolloutPlan.batches(rolling.serial.flatMap(RolloutPlan.sizes) ?? [], total: hosts.count).enumerated() {
            lines.append("batch \(index + 1): " + hosts[start..<start + size].joined(separator: ", "))
            start += size
        }
        return lines
    }
}
