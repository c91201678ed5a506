// swift-tools-version:6.0
import PackageDescription

/// The project's own code builds without warnings, and CI keeps it so.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "Tasker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tasker", targets: ["tasker"]),
        .library(name: "Fleet", targets: ["Fleet"]),
        .library(name: "AnsibleInventory", targets: ["AnsibleInventory"]),
        .library(name: "SSH", targets: ["SSH"]),
        .library(name: "Platform", targets: ["Platform"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "Locking", swiftSettings: strict),
        .target(name: "TextFormats", swiftSettings: strict),
        // Below SSH: the clock, hashing and ciphers (OpenSSL), local processes, output streams.
        .target(name: "Platform", dependencies: ["COpenSSL", "CLinux", "Locking"], swiftSettings: strict),
        .target(name: "SSH", dependencies: ["CLibSSH2", "COpenSSL", "CLinux", "Platform", "Locking", "TextFormats"], swiftSettings: strict),
        .target(name: "AnsibleInventory", dependencies: ["Platform", "TextFormats", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .target(name: "Fleet", dependencies: ["SSH", "Platform", "AnsibleInventory", "TextFormats", "Locking"], swiftSettings: strict),
        .target(name: "RunReport", dependencies: ["Fleet", "Locking"], swiftSettings: strict),
        .target(
            name: "Workflow",
            dependencies: ["Fleet", "AnsibleInventory", "SSH", "Platform", "TextFormats", "Locking", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Resources/execution_types.yaml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tasker",
            dependencies: [
                "Fleet",
                "AnsibleInventory",
                "SSH",
                "Platform",
                "Workflow",
                "RunReport",
                "Locking",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(name: "FuzzTargets", dependencies: ["AnsibleInventory", "Fleet", "SSH", "Workflow"], path: "Fuzz/Targets", swiftSettings: strict),
        .executableTarget(name: "tasker-fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/Driver", swiftSettings: strict),
        .target(name: "TestFleet", dependencies: ["Locking"], path: "Tests/TestFleet", swiftSettings: strict),
        .testTarget(name: "PlatformTests", dependencies: ["Platform"], swiftSettings: strict),
        .testTarget(name: "SSHTests", dependencies: ["SSH", "Platform", "Locking", "TestFleet"], swiftSettings: strict),
        .testTarget(name: "AnsibleInventoryTests", dependencies: ["AnsibleInventory", "TextFormats"], swiftSettings: strict),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "AnsibleInventory", "SSH", "Platform", "Locking", "TestFleet"], swiftSettings: strict),
        .testTarget(name: "RunReportTests", dependencies: ["RunReport", "Fleet"], swiftSettings: strict),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow", "Fleet", "SSH", "Platform", "Locking"], swiftSettings: strict),
        .testTarget(name: "TaskerCLITests", dependencies: ["TestFleet"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "TaskerCommandTests", dependencies: ["tasker"], swiftSettings: strict),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
