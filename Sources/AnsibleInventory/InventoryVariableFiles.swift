import Foundation
import Yams

/// `group_vars/` and `host_vars/` beside an inventory source, read as
/// ansible-core's host_group_vars plugin reads them: for a group or host
/// NAME, the first of `NAME` (a file, or a directory whose files are read in
/// sorted order, recursively), `NAME.yml`, `NAME.yaml`, `NAME.json`; hidden
/// files and backups (`~`) are skipped, and so are files with other extensions.
enum InventoryVariableFiles {
    static let extensions = ["", ".yml", ".yaml", ".json"]

    /// Reads the variable directories of `directory` for every group and host of `inventory`.
    static func load(beside directory: String, into inventory: inout Inventory) throws {
        try load(inventory.groupOrder, in: directory + "/group_vars", into: &inventory) { $0.addGroupFileVariables($1, $2) }
        try load(inventory.hostOrder, in: directory + "/host_vars", into: &inventory) { $0.addHostFileVariables($1, $2) }
    }

    /// Reads the files of `entities` (groups or hosts) in `directory`, handing each one's variables to `add`.
    private static func load(_ entities: [String], in directory: String, into inventory: inout Inventory,
                             add: (inout Inventory, String, InventoryVariables) -> Void) throws {
        for (name, files) in try find(entities, in: directory) {
            for file in files {
                let variables = try variables(in: file, vaultPassword: inventory.vaultPassword)
                inventory.recordVaultValues(in: variables, file: file)
                add(&inventory, name, variables)
            }
        }
    }

    /// The files that hold each entity's variables, listing the directory once
    /// (a large inventory has far more hosts than files).
    private static func find(_ entities: [String], in directory: String) throws -> [(String, [String])] {
        guard let listing = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let present = Set(listing)
        var found: [(String, [String])] = []
        for entity in entities where !entity.hasPrefix("/") {
            for ext in extensions where present.contains(entity + ext) {
                let path = directory + "/" + entity + ext
                found.append((entity, isDirectory(path) ? try filesBelow(path) : [path]))
                break
            }
        }
        return found
    }

    private static func filesBelow(_ directory: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted() } catch {
            throw InventoryError.located(file: directory, line: nil, message: "cannot read directory")
        }
        var files: [String] = []
        for name in names where !name.hasPrefix(".") && !name.hasSuffix("~") {
            let path = directory + "/" + name
            let ext = (name as NSString).pathExtension.isEmpty ? "" : "." + (name as NSString).pathExtension
            if isDirectory(path) {
                if ext.isEmpty { files += try filesBelow(path) }
            } else if extensions.contains(ext) {
                files.append(path)
            }
        }
        return files
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// A variables file: a YAML (or JSON) mapping; an empty file holds nothing.
    static func variables(in path: String, vaultPassword: [UInt8]? = nil) throws -> InventoryVariables {
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
            throw InventoryError.located(file: path, line: nil, message: "cannot read variables file")
        }
        if AnsibleVault.isEncrypted(text) { text = try InventoryLoader.decryptFile(text, path: path, password: vaultPassword) }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw InventoryError.located(file: path, line: YAMLInventoryParser.line(of: error),
                                         message: "YAML syntax error: \(YAMLInventoryParser.summary(of: error))")
        }
        var variables = InventoryVariables()
        guard let root, !YAMLInventoryParser.isNull(root) else { return variables }
        guard let mapping = root.mapping else {
            throw InventoryError.located(file: path, line: root.mark.map { $0.line },
                                         message: "variables must be a dictionary of names and values, not a \(YAMLInventoryParser.kind(root))")
        }
        for (key, value) in mapping {
            guard let name = key.string else {
                throw InventoryError.located(file: path, line: key.mark.map { $0.line }, message: "variable names must be strings")
            }
            variables.set(name, try YAMLInventoryParser.value(value))
        }
        return variables
    }
}
