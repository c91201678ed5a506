import Foundation
@testable import AnsibleInventory

/// Writes inventory text to a temporary file with the given name and loads it.
func loadInventory(_ text: String, named name: String = "hosts.ini") throws -> InventoryLoader.Result {
    let directory = NSTemporaryDirectory() + "/tasker-inventory-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return try InventoryLoader.load([path])
}

func select(_ inventory: Inventory, _ pattern: String, limit: String? = nil) throws -> [String] {
    try HostPatternMatcher(inventory: inventory).select(pattern, limit: limit).hosts
}
