import Foundation
import XCTest
@testable import AnsibleInventory

/// `group_vars/` and `host_vars/` beside inventory sources (Ansible's
/// host_group_vars plugin); the full comparison with ansible-inventory is in
/// `AnsibleComparisonTests`.
final class InventoryVariableFilesTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "/tasker-vars-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/group_vars", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/host_vars", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ text: String, to name: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    private func load() throws -> Inventory {
        try InventoryLoader.load([directory + "/hosts"]).inventory
    }

    func testPrecedenceIsAnsibles() throws {
        try write("[web]\nweb1 level=host\nweb2\n[web:vars]\nlevel=group\n[all:vars]\nlevel=all\n", to: "hosts")
        try write("level: all-file\n", to: "group_vars/all.yml")
        var inventory = try load()
        XCTAssertEqual(inventory.variables(forHost: "web2")["level"], .string("all-file"), "group_vars/all beats the inventory's group vars")
        try write("level: web-file\n", to: "group_vars/web.yaml")
        inventory = try load()
        XCTAssertEqual(inventory.variables(forHost: "web2")["level"], .string("web-file"), "group_vars/GROUP beats inventory group vars")
        XCTAssertEqual(inventory.variables(forHost: "web1")["level"], .string("host"), "inventory host vars beat group_vars")
        try write("{\"level\": \"host-file\"}", to: "host_vars/web1.json")
        inventory = try load()
        XCTAssertEqual(inventory.variables(forHost: "web1")["level"], .string("host-file"), "host_vars beat everything")
    }

    func testTheFirstMatchingNameWinsAndDirectoriesAreReadInOrder() throws {
        try write("[db]\ndb1\n", to: "hosts")
        try FileManager.default.createDirectory(atPath: directory + "/group_vars/db", withIntermediateDirectories: true)
        try write("port: 1\nuser: a\n", to: "group_vars/db/a.yml")
        try write("port: 2\n", to: "group_vars/db/b")
        try write("port: 3\n", to: "group_vars/db/c.txt")
        try write("port: 4\n", to: "group_vars/db.yml")
        let variables = try load().variables(forHost: "db1")
        XCTAssertEqual(variables["port"], .int(2), "the directory db wins over db.yml; c.txt is not a variables file")
        XCTAssertEqual(variables["user"], .string("a"))
    }

    func testBrokenFilesNameTheFileAndLine() throws {
        try write("[db]\ndb1\n", to: "hosts")
        try write("port: 1\nuser: [unclosed\n", to: "group_vars/db.yml")
        XCTAssertThrowsError(try load()) { error in
            XCTAssertTrue("\(error)".contains("/group_vars/db.yml:2: YAML syntax error") || "\(error)".contains("/group_vars/db.yml:3: YAML syntax error"), "\(error)")
        }
        try write("- a list\n", to: "group_vars/db.yml")
        XCTAssertThrowsError(try load()) { error in
            XCTAssertTrue("\(error)".contains("group_vars/db.yml:1: variables must be a dictionary"), "\(error)")
        }
        try write("", to: "group_vars/db.yml")
        XCTAssertNoThrow(try load(), "an empty file holds nothing")
    }
}
