import Foundation
import TestFleet
import XCTest

/// Compares `tasker inventory` with ansible-core on the same inventories.
/// Skipped when `ansible-inventory` is not installed (`pip install ansible-core`).
final class AnsibleComparisonTests: XCTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private var tasker: String { TestFleet.taskerExecutable }

    private var inventories: [String] {
        let fixtures = repository.appendingPathComponent("Tests/TaskerCLITests/Fixtures/inventories").path
        let examples = repository.appendingPathComponent("inventories").path
        let fixtureFiles = ((try? FileManager.default.contentsOfDirectory(atPath: fixtures)) ?? []).sorted().map { "\(fixtures)/\($0)" }
        let exampleFiles = ((try? FileManager.default.contentsOfDirectory(atPath: examples)) ?? []).sorted().map { "\(examples)/\($0)" }
        // A directory source and a file inside it both read its group_vars/ and host_vars/.
        return exampleFiles + fixtureFiles + ["\(fixtures)/with-vars/hosts.ini"]
    }

    private func which(_ program: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") + ["/root/.pyenv/shims", "/usr/local/bin"]
        return paths.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func json(_ text: String) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    func testListMatchesAnsibleInventory() throws {
        guard let ansibleInventory = which("ansible-inventory") else { throw XCTSkip("ansible-inventory is not installed") }
        XCTAssertGreaterThanOrEqual(inventories.count, 4)
        for inventory in inventories {
            let ansible = try ProcessRunner.run(ansibleInventory, ["-i", inventory, "--list"])
            let ours = try ProcessRunner.run(tasker, ["inventory", "-i", inventory, "--list"])
            XCTAssertEqual(ours.status, 0, "\(inventory): \(ours.stderr)")
            XCTAssertEqual(try json(ours.stdout), try json(ansible.stdout), inventory)
        }
    }

    func testPatternsSelectWhatAnsibleSelects() throws {
        guard which("ansible") != nil else { throw XCTSkip("ansible is not installed") }
        let helper = repository.appendingPathComponent("Tests/TaskerCLITests/Fixtures/ansible_patterns.py").path
        let patterns = ["all", "web", "web:!db:app", "!db:web", "&db", "web,db", "db,web", "~web", "~eb", "WEB1", "web1.*",
                        "app[1:2]", "app[-1]", "app[1:0]", "grp2", "&grp2", "al*", "w*", "web[0]", "web:&eu", "eu:us:!db",
                        "*.example.com", "prod[1:]", "fleet[2:4]", "node00*:!node002", "replicas", "other", "cache[1:]"]
        for inventory in inventories {
            let reference = try ProcessRunner.run("/usr/bin/env", ["python3", helper, inventory] + patterns)
            XCTAssertEqual(reference.status, 0, reference.stderr)
            let expectedLines = reference.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(expectedLines.count, patterns.count, reference.stderr)
            for (pattern, line) in zip(patterns, expectedLines) {
                let ours = try ProcessRunner.run(tasker, ["inventory", "-i", inventory, pattern])
                guard let expected = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as? [String] else {
                    XCTAssertEqual(ours.status, 2, "\(inventory) \(pattern): Ansible refuses it, so must Tasker")
                    continue
                }
                let actual = ours.stdout.split(separator: "\n").map(String.init)
                // Ansible orders hosts of nested groups by Python's (randomised) set order;
                // membership must match exactly.
                XCTAssertEqual(Set(actual), Set(expected), "\(inventory) \(pattern)")
                XCTAssertEqual(actual.count, expected.count, "\(inventory) \(pattern)")
            }
        }
    }
}
