import Fleet
import Foundation
import SSH

/// A task's own `become`, `become_user` and `become_method`, placeholders
/// resolved: what it changes about how the host's commands run, over what the
/// command line, the file header and the inventory say (as a play's become
/// keywords override inventory variables in Ansible).
public struct TaskBecome: Sendable, Equatable {
    /// `become=`: on or off for this task; nil leaves the host's setting.
    public var enabled: Bool?
    public var user: String?
    public var method: Become.Method?

    /// Nil when the task sets none of the fields.
    static func of(_ task: TaskDefinition, resolver: PlaceholderResolver) throws -> TaskBecome? {
        try of(task) { resolver.resolve($0).text }
    }

    /// The fields with `resolve` applied; one it returns nil for (a value not known yet) is left unset.
    static func of(_ task: TaskDefinition, resolve: (String) -> String?) throws -> TaskBecome? {
        guard task.become != nil || task.becomeUser != nil || task.becomeMethod != nil else { return nil }
        var result = TaskBecome()
        if let text = task.become.flatMap(resolve) {
            guard let value = Self.boolean(text) else {
                throw TaskFileError(exitCode: 20, "become=\(text) is not a boolean (true/false, yes/no, on/off, 1/0)")
            }
            result.enabled = value
        }
        if let text = task.becomeUser.flatMap(resolve)?.trimmingCharacters(in: .whitespaces) {
            guard !text.isEmpty else { throw TaskFileError(exitCode: 20, "become_user is empty") }
            result.user = text
        }
        if let text = task.becomeMethod.flatMap(resolve) {
            guard let method = Become.Method(rawValue: text.lowercased()) else {
                throw TaskFileError(exitCode: 20, "become_method=\(text) is not one of sudo, su, doas")
            }
            result.method = method
        }
        return result
    }

    /// Whether the task runs through become at all, wherever it runs.
    var turnsOn: Bool { enabled == true }

    /// The become `spec`'s commands use for this task: the host's own, switched on
    /// or off by `become=`, with the task's user and method.
    func applied(to spec: ConnectionSpec) -> Become? {
        guard enabled ?? (spec.become != nil) else { return nil }
        var become = spec.become ?? spec.becomeWhenAsked
        if let user { become.user = user }
        if let method { become.method = method }
        return become
    }

    /// Ansible's booleans, in any letter case.
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1", "y", "t": true
        case "false", "no", "off", "0", "n", "f": false
        default: nil
        }
    }
}
