/// Rolling blocks and their steps (Tasker's `type=rolling`).
extension TaskFileValidator {
    mutating func checkRolling(_ task: TaskDefinition) {
        let id = task.id
        let place = "task \(id)"
        if (task.hosts ?? "").trimmingCharacters(in: .whitespaces).isEmpty { error("\(place): a rolling block needs hosts= (a host pattern)") }
        let (steps, valid) = list(task.tasks)
        if !valid { error("\(place): a rolling block needs tasks= (its steps), got '\(task.tasks ?? "")'") }
        for step in steps {
            if step == id { error("\(place): a rolling block cannot be its own step") }
            guard let definition = file.task(step) else {
                error("\(place): step \(step) is not defined")
                continue
            }
            if rollingSteps[step] != id { error("\(place): step \(step) is already a step of rolling block \(rollingSteps[step]!)") }
            if definition.kind != .command || definition.returnValue != nil, definition.hosts == nil {
                error("\(place): step \(step) must be a command task (not a block or a return task)")
            }
        }
        if let value = task.maxParallel, (PythonSemantics.int(withGlobals(value)) ?? 0) < 1 {
            error("\(place): max_parallel must be an integer of at least 1")
        }
        checkRolloutSettings(task)
        if task.success != nil { checkBudget(task) }
        if task.failure != nil { error("\(place): a rolling block judges by success= (its failure budget), not failure=") }
        if task.timeout != nil { error("\(place): timeout is not allowed on blocks") }
    }

    /// The rollout fields of a rolling block or of a `hosts=` task that rolls out in batches.
    mutating func checkRolloutSettings(_ task: TaskDefinition) {
        let place = "task \(task.id)"
        if let serial = task.serial, RolloutPlan.sizes(serial) == nil {
            error("\(place): serial=\(serial) must list host counts of at least 1 or percentages from 1% to 100%")
        }
        if let value = task.maxFailPercentage, !(0...100).contains(PythonSemantics.int(withGlobals(value)) ?? -1) {
            error("\(place): max_fail_percentage must be an integer from 0 to 100, got '\(value)'")
        }
        if let value = task.batchPause, (PythonSemantics.float(withGlobals(value)) ?? -1) < 0 {
            error("\(place): batch_pause must be a number of seconds, got '\(value)'")
        }
        if let value = task.abortRunning, !["true", "false"].contains(value.lowercased()) {
            error("\(place): abort_running must be true or false, got '\(value)'")
        }
        if let gate = task.gate {
            if let gateID = PythonSemantics.int(gate) {
                if file.task(gateID) == nil { error("\(place): gate task \(gateID) is not defined") }
                else if rollingSteps[gateID] != nil { error("\(place): gate task \(gateID) is a step of a rolling block") }
            } else {
                error("\(place): gate must be a task ID, got '\(gate)'")
            }
        }
    }

    mutating func checkBudget(_ task: TaskDefinition) {
        if let success = task.success, RolloutPlan.Budget(success, hosts: 100) == nil {
            error("task \(task.id): invalid failure budget success=\(success)")
        }
    }

    /// A step of rolling block `block`: the block supplies the host; routing stays in the pipeline.
    mutating func checkStep(_ task: TaskDefinition, block: Int) {
        let id = task.id
        let place = "task \(id) (a step of rolling block \(block))"
        if task.hostname != nil || task.hosts != nil { error("\(place): a step runs on the block's hosts; it has no hostname= or hosts=") }
        if (task.command ?? "").isEmpty { error("\(place): a step needs a command") }
        let pipeline = Set(list(file.task(block)?.tasks).ids)
        for field in [TaskField.onSuccess, .onFailure] {
            guard let value = task[field], let target = PythonSemantics.int(value) else { continue }
            if !pipeline.contains(target) { error("\(place): \(field.rawValue)=\(target) points outside the pipeline") }
        }
        if let next = task.next { error("\(place): next=\(next): a step's route is its pipeline (use on_failure for a rollback step)") }
        if task.loop != nil { error("\(place): a step cannot loop") }
    }
}
