import AnsibleInventory
import Locking
import SSH

/// What outlives one run: the connection pool, the resolver that turns targets
/// into connection specs (and its cache of them), the inventory and `--limit`,
/// and the open-file budget the pool was sized by. The command line makes one;
/// `exec`, `push`, `pull`, `script` and workflow runs borrow it; a long-lived
/// command keeps it open between rounds. Whoever made it closes it.
public final class FleetSession: Sendable {
    /// How long the session lives, which decides how its pool treats hosts.
    public enum Lifetime: Sendable, Equatable {
        /// One fan-out: a failed host fails fast for the rest of the run; a host's connection
        /// closes when its work is done.
        case oneShot
        /// A workflow: connections stay for later steps; a failed host is tried again at its next use.
        case workflow
        /// Days: connections stay; a host that is down is retried with back-off (1, 2, 4 … 60 s).
        case longLived(ConnectionPool.Backoff)
    }

    public struct Settings: Sendable {
        public var resolver: ConnectionResolver
        public var inventory: Inventory?
        /// `--limit`: narrows every pattern's selection.
        public var limit: String?
        /// `--shard`: this controller's slice of every pattern's selection.
        public var shard: Shard?
        public var lifetime: Lifetime
        public var budget: FileDescriptorBudget
        public var maxConcurrentHandshakes: Int
        public var tunnelsPerJumpHostConnection: Int
        public var connectionsPerJumpHost: Int

        public init(resolver: ConnectionResolver, inventory: Inventory? = nil, limit: String? = nil, shard: Shard? = nil, lifetime: Lifetime,
                    budget: FileDescriptorBudget = FileDescriptorBudget(forks: 64, maxOpenConnections: .max),
                    maxConcurrentHandshakes: Int = 50, tunnelsPerJumpHostConnection: Int = 16, connectionsPerJumpHost: Int = 8) {
            self.resolver = resolver
            self.inventory = inventory
            self.limit = limit
            self.shard = shard
            self.lifetime = lifetime
            self.budget = budget
            self.maxConcurrentHandshakes = maxConcurrentHandshakes
            self.tunnelsPerJumpHostConnection = tunnelsPerJumpHostConnection
            self.connectionsPerJumpHost = connectionsPerJumpHost
        }

        var poolOptions: ConnectionPool.Options {
            let policy: ConnectionPool.FailurePolicy = switch lifetime {
            case .oneShot: .remember
            case .workflow: .retryOnNextUse
            case .longLived(let backoff): .backOff(backoff)
            }
            return ConnectionPool.Options(maxConcurrentHandshakes: maxConcurrentHandshakes, failurePolicy: policy,
                                          keepsIdleConnections: lifetime != .oneShot, maxOpenConnections: budget.maxOpenConnections,
                                          tunnelsPerJumpHostConnection: tunnelsPerJumpHostConnection,
                                          connectionsPerJumpHost: connectionsPerJumpHost)
        }
    }

    public let settings: Settings
    public let pool: ConnectionPool
    private let specs = Locked<[String: ConnectionSpec]>([:])

    public init(settings: Settings, group: EventLoopGroup = .shared) {
        self.settings = settings
        pool = ConnectionPool(group: group, options: settings.poolOptions)
    }

    public var resolver: ConnectionResolver { settings.resolver }
    public var inventory: Inventory? { settings.inventory }

    /// The inventory hosts `pattern` selects (narrowed by `--limit` and `--shard`), with Ansible-style warnings.
    public func hosts(matching pattern: String) throws -> (hosts: [String], warnings: [String]) {
        guard let inventory = settings.inventory else { throw FleetError.badInput("\(pattern) needs an inventory (-i INVENTORY)") }
        let selection = try HostPatternMatcher(inventory: inventory).select(pattern, limit: settings.limit)
        return (settings.shard.map { shard in selection.hosts.filter(shard.contains) } ?? selection.hosts, selection.warnings)
    }

    /// How `host` is reached: its inventory entry when it has one, else `[user@]host[:port]`
    /// through ssh_config. Kept until `refresh()`.
    public func spec(for host: String) throws -> ConnectionSpec {
        if let cached = specs.withLock({ $0[host] }) { return cached }
        let spec: ConnectionSpec
        if let inventory = settings.inventory, inventory.hosts[host] != nil {
            spec = try InventoryTargets(inventory: inventory).specs(for: [host], resolver: settings.resolver).specs[0]
        } else {
            spec = try settings.resolver.resolve(HostTarget(parsing: host))
        }
        specs.withLock { $0[host] = spec }
        return spec
    }

    /// Forgets what was worked out about hosts (connection specs, `Match exec` answers), so that
    /// the next use reads ssh_config and the inventory's variables afresh; open connections stay.
    public func refresh() {
        specs.withLock { $0.removeAll() }
        SSHConfig.forgetMatchExecResults()
    }

    /// Closes every connection; the session is not used after.
    public func close() async {
        await pool.closeAll()
    }
}
