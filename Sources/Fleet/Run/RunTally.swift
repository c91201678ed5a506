/// How many hosts of a run ended in each status: all a run keeps of its
/// finished hosts, so a run over any number of hosts holds only the hosts in flight.
public struct RunTally: Sendable, Equatable {
    public private(set) var counts: [HostStatus: Int] = [:]

    public init() {}

    public init(_ statuses: [HostStatus]) {
        for status in statuses { record(status) }
    }

    public mutating func record(_ status: HostStatus) {
        counts[status, default: 0] += 1
    }

    public var hosts: Int { counts.values.reduce(0, +) }

    public func count(_ status: HostStatus) -> Int { counts[status] ?? 0 }
}
