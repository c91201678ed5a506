import Fleet
import SSH
import Workflow
import AnsibleInventory

/// The parsers Tasker feeds with operators' files and text, as libFuzzer
/// targets: each takes arbitrary bytes and must neither crash, hang nor blow
/// up. `scripts/fuzz.sh TARGET` runs one; the seed corpora and every finding
/// (`Fuzz/Regressions/TARGET/`) are replayed by the test suite.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Task-file reader, validator and dependency check.
    case taskFile = "taskfile"
    /// Condition parser, syntax check and evaluator, and the placeholder resolver: line 1 is a condition, the rest
    /// is text with placeholders (also task 0's stdout). The globals are fixed: a
    /// global whose value refers to itself grows a text to the expansion limit
    /// (`PlaceholderResolver.expansionLimit`), which is bounded but would make every
    /// input slow; `Fuzz/Regressions/conditions` and the resolver's tests cover it.
    case conditions
    /// Ansible INI inventory reader.
    case iniInventory = "inventory-ini"
    /// Ansible YAML inventory reader.
    case yamlInventory = "inventory-yaml"
    /// Host ranges and patterns: line 1 is a pattern, line 2 a `--limit`, the rest an INI inventory.
    case patterns
    /// ssh_config reader and host matching.
    case sshConfig = "ssh-config"
    /// known_hosts reader and host key verification.
    case knownHosts = "known-hosts"
    /// Private key files (OpenSSH and PEM, unencrypted ones decoded) and public
    /// key or certificate lines: line 1 is a public key line, the rest a private key.
    case keyFile = "key-file"
    /// What sudo, su or doas print before a become'd command starts: byte 0 picks
    /// the method and terminal, the rest is split at 0x00 into chunks fed to stdout
    /// and stderr in turn, every third one after the wrapper's marker.
    case becomeOutput = "become-output"

    public func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .taskFile:
            guard let file = try? TaskFile.parse(text, path: "fuzz.txt") else { return }
            _ = TaskFileValidator.validate(file)
            _ = TaskFileValidator.dependencyIssues(file)
        case .conditions:
            let (condition, rest) = Self.firstLine(text)
            let results = [
                0: TaskResult(exitCode: 0, stdout: rest, stderr: "", success: true),
                1: TaskResult(exitCode: 2, stdout: "a\nb", stderr: rest, success: false,
                              hosts: [HostTaskResult(host: "web1", exitCode: 0, stdout: rest, stderr: "", success: true,
                                                     status: .ok, attempts: 1)]),
            ]
            let resolver = PlaceholderResolver(globals: ["G": "g @N@ @0_exit@", "N": "3", "E": ""], results: results)
            _ = resolver.resolve(rest)
            _ = Condition.evaluate(condition, context: ConditionContext(exitCode: 1, stdout: rest, stderr: condition),
                                   resolver: resolver)
            _ = Condition(condition).checkSyntax()
        case .iniInventory:
            _ = try? InventoryLoader.parse(text, named: "fuzz.ini", maximumHosts: Self.maximumHosts)
        case .yamlInventory:
            _ = try? InventoryLoader.parse(text, named: "fuzz.yml", maximumHosts: Self.maximumHosts)
        case .patterns:
            let (pattern, rest) = Self.firstLine(text)
            let (limit, inventoryText) = Self.firstLine(rest)
            let inventory = (try? InventoryLoader.parse(inventoryText, named: "fuzz.ini", maximumHosts: Self.maximumHosts))?.inventory
                ?? Self.fixedInventory
            _ = try? HostPatternMatcher(inventory: inventory).select(pattern, limit: limit.isEmpty ? nil : limit)
        case .sshConfig:
            guard let config = try? SSHConfig(parsing: text, path: "fuzz_config", sandboxed: true) else { return }
            for host in ["web1", "db.example.com", "10.0.0.1", "[::1]", ""] { _ = try? config.resolve(host: host) }
        case .knownHosts:
            let known = KnownHosts(parsing: text, file: "fuzz_known_hosts")
            let key = HostKey(type: "ssh-ed25519", blob: [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32] + [UInt8](repeating: 7, count: 32),
                              sha256: [UInt8](repeating: 1, count: 32))
            for (host, port) in [("web1", 22), ("10.0.0.1", 2222), ("db.example.com", 22), ("::1", 22)] {
                _ = known.verify(key, host: host, port: port)
                _ = known.keyTypes(host: host, port: port)
            }
        case .becomeOutput:
            guard let selector = data.first else { return }
            let method = Become.Method.allCases[Int(selector) % Become.Method.allCases.count]
            let chunks = data.dropFirst().split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
            _ = BecomeOutputReader.read(chunks, method: method, terminal: selector & 0x80 != 0)
        case .keyFile:
            let (publicLine, privateText) = Self.firstLine(text)
            _ = KeyFileReader.describe(publicKeyLine: publicLine)
            _ = KeyFileReader.describe(privateKey: privateText)
        }
    }

    /// Inventories may define up to a million hosts, which takes seconds; the fuzzer
    /// looks for crashes and superlinear costs, so it keeps each input small.
    private static let maximumHosts = 2_000

    private static func firstLine(_ text: String) -> (String, String) {
        guard let newline = text.firstIndex(of: "\n") else { return (text, "") }
        return (String(text[..<newline]), String(text[text.index(after: newline)...]))
    }

    private static let fixedInventory: Inventory = {
        let text = "[web]\nweb[01:20]\n[db]\ndb[1:4]\n[eu:children]\nweb\n[all:vars]\nx=1\n"
        return (try? InventoryLoader.parse(text, named: "fixed.ini").inventory) ?? Inventory()
    }()
}
