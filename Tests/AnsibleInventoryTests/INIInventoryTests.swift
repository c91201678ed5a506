import XCTest
@testable import AnsibleInventory

final class INIInventoryTests: XCTestCase {
    private let example = """
    # comment
    ; another comment
    bastion ansible_host=203.0.113.10

    [web]
    web[1:3].example.com
    web4.example.com:2222 http_port=8080

    [db]
    db1 ansible_user=postgres

    [prod:children]
    web
    db

    [web:vars]
    gv=1
    gb=True
    gl=[1,2]
    s2=hello world # x
    s1 = spaced
    """

    func testGroupsHostsAndImplicitGroups() throws {
        let inventory = try loadInventory(example).inventory
        XCTAssertEqual(inventory.groups["web"]?.hosts, ["web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"])
        XCTAssertEqual(inventory.groups["prod"]?.children, ["web", "db"])
        XCTAssertEqual(inventory.groups["all"]?.children, ["ungrouped", "prod"])
        XCTAssertEqual(inventory.groups["ungrouped"]?.hosts, ["bastion"])
        XCTAssertEqual(try select(inventory, "all"), ["bastion", "db1", "web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"].sorted { a, b in
            ["bastion", "web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com", "db1"].firstIndex(of: a)! <
                ["bastion", "web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com", "db1"].firstIndex(of: b)!
        })
    }

    func testValuesAndVariables() throws {
        let inventory = try loadInventory(example).inventory
        let web4 = inventory.variables(forHost: "web4.example.com")
        XCTAssertEqual(web4["ansible_port"], .int(2222))
        XCTAssertEqual(web4["http_port"], .int(8080))
        XCTAssertEqual(web4["gv"], .int(1))
        XCTAssertEqual(web4["gb"], .bool(true))
        XCTAssertEqual(web4["gl"], .list([.int(1), .int(2)]))
        XCTAssertEqual(web4["s2"], .string("hello world # x"))
        XCTAssertEqual(web4["s1"], .string("spaced"))
        XCTAssertEqual(inventory.variables(forHost: "bastion")["ansible_host"], .string("203.0.113.10"))
        XCTAssertNil(inventory.variables(forHost: "db1")["gv"])
    }

    func testInlinePortIsOverriddenByAnsiblePortAndOddNames() throws {
        let inventory = try loadInventory("h2:22 ansible_port=33\nh:abc\n10.0.0.[1:2]:2222\n[::1]:2200\n").inventory
        XCTAssertEqual(inventory.variables(forHost: "h2")["ansible_port"], .int(33))
        XCTAssertNotNil(inventory.hosts["h:abc"])
        XCTAssertEqual(inventory.variables(forHost: "10.0.0.2")["ansible_port"], .int(2222))
        XCTAssertEqual(inventory.variables(forHost: "::1")["ansible_port"], .int(2200))
    }

    func testPrecedenceDepthPriorityNameThenHost() throws {
        let text = """
        [a]
        h1
        [b]
        h1
        [a:vars]
        v=a
        [b:vars]
        v=b
        """
        XCTAssertEqual(try loadInventory(text).inventory.variables(forHost: "h1")["v"], .string("b"), "later name wins at equal depth")
        let prioritised = try loadInventory(text + "\n[a:vars]\nansible_group_priority=5\n").inventory
        XCTAssertEqual(prioritised.variables(forHost: "h1")["v"], .string("a"))
        XCTAssertNil(prioritised.variables(forHost: "h1")["ansible_group_priority"])

        let deeper = """
        [parent:children]
        child
        [child]
        h1 own=host
        [parent]
        h1
        [parent:vars]
        v=parent
        ansible_group_priority=100
        own=parent
        [child:vars]
        v=child
        [all:vars]
        v=all
        only_all=1
        """
        let inventory = try loadInventory(deeper).inventory
        let variables = inventory.variables(forHost: "h1")
        XCTAssertEqual(variables["v"], .string("child"), "depth beats priority")
        XCTAssertEqual(variables["own"], .string("host"), "host vars beat group vars")
        XCTAssertEqual(variables["only_all"], .int(1))
    }

    func testPendingChildrenAndUngroupedCleanup() throws {
        let text = """
        early
        [top:children]
        later
        [later]
        early
        h2
        """
        let inventory = try loadInventory(text).inventory
        XCTAssertEqual(inventory.groups["top"]?.children, ["later"])
        XCTAssertEqual(inventory.groups["ungrouped"]?.hosts, [], "a host in a real group leaves ungrouped")
    }

    func testErrorsNameFileLineAndProblem() {
        let cases: [(String, Int, String)] = [
            ("[web:other]\nh1\n", 1, "has unknown type: other"),
            ("h1\n[x ]\n", 2, "invalid section entry"),
            ("[g]\nh[5:1:0]\n", 2, "invalid step"),
            ("[g]\nh[01:3]\n", 2, "equal-length"),
            ("[g]\nh1 novalue\n", 2, "expected key=value"),
            ("[g]\nh1:\n", 2, "ends with a colon"),
            ("[g:vars]\nx=1\n", 1, "not valid for undefined group: g"),
            ("[g:children]\nmissing\n", 2, "includes undefined group: missing"),
            ("[a:children]\nb\n[b:children]\na\n", 4, "recursive dependency loop"),
            ("[g:vars]\nnovalue\n", 2, "expected key=value"),
            ("[g]\nh1 a='x\n", 2, "no closing quotation"),
        ]
        for (text, line, message) in cases {
            XCTAssertThrowsError(try loadInventory(text, named: "broken.ini"), text) { error in
                let description = "\(error)"
                XCTAssertTrue(description.contains("broken.ini:\(line): "), "\(text): \(description)")
                XCTAssertTrue(description.contains(message), "\(text): \(description)")
            }
        }
    }
}
