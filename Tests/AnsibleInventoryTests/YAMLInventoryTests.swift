import XCTest
@testable import AnsibleInventory

final class YAMLInventoryTests: XCTestCase {
    private let example = """
    all:
      vars:
        ntp: pool.example
      hosts:
        bastion:
      children:
        web:
          hosts:
            web[1:2]:
            "web3:2222": {ansible_port: 3333}
          vars:
            http_port: 80
            enabled: yes
            zero_padded: 01
            quoted: "01"
        db:
          hosts:
            db1: {ansible_user: postgres}
        prod:
          children:
            web:
            db:
    """

    func testStructureAndTyping() throws {
        let inventory = try loadInventory(example, named: "prod.yml").inventory
        XCTAssertEqual(inventory.groups["web"]?.hosts, ["web1", "web2", "web3"])
        XCTAssertEqual(inventory.groups["prod"]?.children, ["web", "db"])
        XCTAssertEqual(inventory.groups["all"]?.children, ["ungrouped", "web", "db", "prod"])
        XCTAssertEqual(inventory.groups["ungrouped"]?.hosts, ["bastion"])
        let web3 = inventory.variables(forHost: "web3")
        XCTAssertEqual(web3["ansible_port"], .int(3333), "an explicit ansible_port beats :port")
        XCTAssertEqual(web3["enabled"], .bool(true))
        XCTAssertEqual(web3["zero_padded"], .int(1))
        XCTAssertEqual(web3["quoted"], .string("01"))
        XCTAssertEqual(web3["ntp"], .string("pool.example"))
        XCTAssertEqual(inventory.variables(forHost: "db1")["ansible_user"], .string("postgres"))
    }

    func testExtensionlessYAMLAndINIFallback() throws {
        XCTAssertNotNil(try loadInventory(example, named: "hosts").inventory.hosts["web1"])
        XCTAssertNotNil(try loadInventory("[web]\nweb1\n", named: "hosts").inventory.hosts["web1"])
        XCTAssertNotNil(try loadInventory("web1\nweb2\n", named: "hosts").inventory.hosts["web2"])
    }

    func testErrors() {
        XCTAssertThrowsError(try loadInventory("all:\n  hosts: [h1]\n", named: "bad.yml")) { error in
            XCTAssertTrue("\(error)".contains("bad.yml:2: invalid \"hosts\" entry for group \"all\""), "\(error)")
        }
        XCTAssertThrowsError(try loadInventory("all:\n  hosts:\n    1:\n", named: "bad.yml")) { error in
            XCTAssertTrue("\(error)".contains("enclose integers/floats in quotation marks"), "\(error)")
        }
        XCTAssertThrowsError(try loadInventory("all:\n  hosts:\n    h[1:]:\n", named: "bad.yaml")) { error in
            XCTAssertTrue("\(error)".contains("bad.yaml:3: host range '[1:]' must specify end value"), "\(error)")
        }
        XCTAssertThrowsError(try loadInventory("all:\n  hosts: {a: 1\n", named: "bad.yml")) { error in
            XCTAssertTrue("\(error)".contains("bad.yml:") && "\(error)".contains("YAML syntax error"), "\(error)")
        }
    }
}
