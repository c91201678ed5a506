// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Tasker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tasker", targets: ["tasker"]),
        .library(name: "Fleet", targets: ["Fleet"]),
        .library(name: "SSH", targets: ["SSH"]),
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
        .systemLibrary(name: "CSystem"),
        .target(name: "Locking"),
        .target(name: "SSH", dependencies: ["CLibSSH2", "CSystem", "Locking"]),
        .target(name: "Fleet", dependencies: ["SSH", "Locking", .product(name: "Yams", package: "Yams")]),
        .target(
            name: "Workflow",
            dependencies: ["Fleet", "CSystem", "Locking", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Resources/execution_types.yaml")]
        ),
        .executableTarget(
            name: "tasker",
            dependencies: [
                "Fleet",
                "Workflow",
                "Locking",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestFleet", dependencies: ["Locking"], path: "Tests/TestFleet"),
        .testTarget(name: "SSHTests", dependencies: ["SSH", "Locking", "TestFleet"]),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "Locking", "TestFleet"]),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow"]),
        .testTarget(name: "TaskerCLITests", dependencies: ["TestFleet"], exclude: ["Fixtures"]),
        .testTarget(name: "TaskerCommandTests", dependencies: ["tasker"]),
    ],
    swiftLanguageModes: [.v6]
)
