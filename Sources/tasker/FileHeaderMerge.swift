/// How one option written in a task file's header (zone A, §3 of the
/// reference) combines with the command line: a flag is on when either sets
/// it; a valued option or list from the file applies where the command line
/// gave none.
struct FileHeaderMerge<Command>: Sendable {
    /// The option's property path, e.g. `remote.ssh.sshConfig`.
    let path: String
    let apply: @Sendable (_ merged: inout Command, _ fromFile: Command) -> Void

    static func flag(_ path: String, _ keyPath: WritableKeyPath<Command, Bool> & Sendable) -> Self {
        Self(path: path) { merged, file in merged[keyPath: keyPath] = merged[keyPath: keyPath] || file[keyPath: keyPath] }
    }

    static func valued<Value>(_ path: String, _ keyPath: WritableKeyPath<Command, Value?> & Sendable) -> Self {
        Self(path: path) { merged, file in
            if merged[keyPath: keyPath] == nil { merged[keyPath: keyPath] = file[keyPath: keyPath] }
        }
    }

    static func list<Element>(_ path: String, _ keyPath: WritableKeyPath<Command, [Element]> & Sendable) -> Self {
        Self(path: path) { merged, file in
            if merged[keyPath: keyPath].isEmpty { merged[keyPath: keyPath] = file[keyPath: keyPath] }
        }
    }
}

extension RunCommand {
    /// Every option of `tasker run` but the task file itself. A test checks
    /// that no option is missing, so a new option cannot be forgotten here.
    static let fileHeaderMerges: [FileHeaderMerge<RunCommand>] = [
        .flag("run", \.run),
        .valued("logLevel", \.logLevel),
        .flag("debug", \.debug),
        .valued("logDir", \.logDir),
        .valued("type", \.type),
        .valued("project", \.project),
        .valued("startFrom", \.startFrom),
        .valued("outputJson", \.outputJson),
        .valued("execConfig", \.execConfig),
        .valued("alertOnFailure", \.alertOnFailure),
        .list("remote.inventory.inventories", \.remote.inventory.inventories),
        .valued("remote.inventory.limit", \.remote.inventory.limit),
        .valued("remote.inventory.inventoryTimeout", \.remote.inventory.inventoryTimeout),
        .valued("remote.inventory.vaultPasswordFile", \.remote.inventory.vaultPasswordFile),
        .flag("remote.inventory.askVaultPass", \.remote.inventory.askVaultPass),
        .valued("remote.ssh.sshConfig", \.remote.ssh.sshConfig),
        .list("remote.ssh.keyFiles", \.remote.ssh.keyFiles),
        .list("remote.ssh.env", \.remote.ssh.env),
        .flag("remote.ssh.askPass", \.remote.ssh.askPass),
        .valued("remote.ssh.passwordFile", \.remote.ssh.passwordFile),
        .flag("remote.ssh.become.become", \.remote.ssh.become.become),
        .valued("remote.ssh.become.becomeUser", \.remote.ssh.become.becomeUser),
        .valued("remote.ssh.become.becomeMethod", \.remote.ssh.become.becomeMethod),
        .flag("remote.ssh.become.askBecomePass", \.remote.ssh.become.askBecomePass),
        .valued("remote.ssh.become.becomePasswordFile", \.remote.ssh.become.becomePasswordFile),
        .valued("remote.ssh.connectTimeout", \.remote.ssh.connectTimeout),
        .valued("remote.ssh.hostKeyPolicy", \.remote.ssh.hostKeyPolicy),
        .valued("remote.ssh.knownHosts", \.remote.ssh.knownHosts),
        .valued("remote.ssh.maxHandshakes", \.remote.ssh.maxHandshakes),
        .valued("remote.ssh.serverAliveInterval", \.remote.ssh.serverAliveInterval),
        .valued("remote.ssh.serverAliveCountMax", \.remote.ssh.serverAliveCountMax),
        .valued("remote.ssh.jump", \.remote.ssh.jump),
        .valued("remote.ssh.tunnelsPerJumpConnection", \.remote.ssh.tunnelsPerJumpConnection),
        .valued("remote.ssh.maxJumpConnections", \.remote.ssh.maxJumpConnections),
        .valued("remote.sshUser", \.remote.sshUser),
        .valued("remote.forks", \.remote.forks),
        .valued("remote.outputDir", \.remote.outputDir),
        .valued("remote.keepBytes", \.remote.keepBytes),
        .valued("remote.retryFile", \.remote.retryFile),
        .valued("remote.shard.shard", \.remote.shard.shard),
        .valued("remote.shard.shardCount", \.remote.shard.shardCount),
        .valued("records.journal", \.records.journal),
        .valued("records.report", \.records.report),
        .flag("fireAndForget", \.fireAndForget),
        .flag("strictEnvValidation", \.strictEnvValidation),
        .flag("validateOnly", \.validateOnly),
        .flag("showEffectiveArgs", \.showEffectiveArgs),
        .flag("skipTaskValidation", \.skipTaskValidation),
        .flag("skipHostValidation", \.skipHostValidation),
        .flag("skipUnresolvedHostValidation", \.skipUnresolvedHostValidation),
        .flag("skipCommandValidation", \.skipCommandValidation),
        .flag("skipSecurityValidation", \.skipSecurityValidation),
        .flag("skipSubtaskRangeValidation", \.skipSubtaskRangeValidation),
        .flag("skipValidation", \.skipValidation),
        .flag("noTaskBackup", \.noTaskBackup),
        .flag("autoRecovery", \.autoRecovery),
        .flag("showRecoveryInfo", \.showRecoveryInfo),
        .flag("instanceCheck", \.instanceCheck),
        .flag("forceInstance", \.forceInstance),
        .flag("showPlan", \.showPlan),
        .flag("yes", \.yes),
    ]
}
