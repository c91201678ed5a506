import XCTest
@testable import AnsibleInventory

final class InventoryReportTests: XCTestCase {
    func testListMatchesAnsibleInventoryShape() throws {
        let inventory = try loadInventory("""
        solo
        [web]
        web1 port=80
        [empty]
        [prod:children]
        web
        empty
        [prod:vars]
        env=prod
        """).inventory
        let json = InventoryReport.list(inventory)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual((object["all"] as? [String: Any])?["children"] as? [String], ["ungrouped", "prod"])
        XCTAssertNil((object["all"] as? [String: Any])?["hosts"])
        XCTAssertEqual((object["prod"] as? [String: Any])?["children"] as? [String], ["web", "empty"])
        XCTAssertNil(object["empty"], "empty groups are left out as keys")
        XCTAssertEqual((object["ungrouped"] as? [String: Any])?["hosts"] as? [String], ["solo"])
        let hostvars = try XCTUnwrap((object["_meta"] as? [String: Any])?["hostvars"] as? [String: [String: Any]])
        XCTAssertEqual(hostvars["web1"]?["env"] as? String, "prod")
        XCTAssertEqual(hostvars["web1"]?["port"] as? Int, 80)
        XCTAssertNil(hostvars["solo"], "hosts without variables are absent")
        XCTAssertTrue(json.hasPrefix("{\n    \"_meta\": {"), "keys sorted, 4-space indent")
    }

    func testGraph() throws {
        let inventory = try loadInventory("solo\n[web]\nweb1\n[prod:children]\nweb\n").inventory
        XCTAssertEqual(InventoryReport.graph(inventory), """
        @all:
          |--@ungrouped:
          |  |--solo
          |--@prod:
          |  |--@web:
          |  |  |--web1
        """)
    }

    func testGraphOfALargeInventoryCanListAFewHostsPerGroup() throws {
        let inventory = try loadInventory("[web]\nweb[1:100000]\n[db]\ndb1\ndb2\n").inventory
        XCTAssertEqual(InventoryReport.graph(inventory, hostsPerGroup: 2), """
        @all:
          |--@ungrouped:
          |--@web:
          |  |--web1
          |  |--web2
          |  |--… 99998 more hosts
          |--@db:
          |  |--db1
          |  |--db2
        """)
    }

    func testHostVariables() throws {
        let inventory = try loadInventory("[web]\nweb1 a=1\n[web:vars]\nb='x'\n").inventory
        XCTAssertEqual(try InventoryReport.host(inventory, "web1"), "{\n    \"a\": 1,\n    \"b\": \"x\"\n}")
        XCTAssertThrowsError(try InventoryReport.host(inventory, "nope"))
    }

    func testDirectoriesAndInlineLists() throws {
        let directory = NSTemporaryDirectory() + "/inv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/group_vars", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "[web]\nweb1\n".write(toFile: directory + "/01-web.ini", atomically: true, encoding: .utf8)
        try "all:\n  children:\n    db:\n      hosts:\n        db1:\n".write(toFile: directory + "/02-db.yml", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: directory + "/README.md", atomically: true, encoding: .utf8)
        // group_vars/ is not an inventory source but the source directory's variables.
        try "x: 1\n".write(toFile: directory + "/group_vars/all.yml", atomically: true, encoding: .utf8)
        let loaded = try InventoryLoader.load([directory, "extra1,extra2:2222,"])
        XCTAssertEqual(loaded.inventory.hostOrder, ["web1", "db1", "extra1", "extra2"])
        XCTAssertEqual(loaded.inventory.variables(forHost: "db1")["x"], .int(1))
        XCTAssertEqual(loaded.inventory.variables(forHost: "extra2")["ansible_port"], .int(2222))
        XCTAssertThrowsError(try InventoryLoader.load(["/nonexistent/inventory"])) { error in
            XCTAssertEqual("\(error)", "/nonexistent/inventory: inventory source not found")
        }
    }
}
