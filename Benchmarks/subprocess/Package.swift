// swift-tools-version:6.2
import Foundation
import PackageDescription

/// A path dependency is named after its folder, whatever the clone is called.
let tasker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

// Tasker's own spawner (Platform.LocalProcess) against swift-subprocess 1.0.2,
// the same programs run the same way. Kept out of the main package: Tasker
// does not depend on swift-subprocess (see docs/benchmarks.md for why).
let package = Package(
    name: "spawn-bench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/swiftlang/swift-subprocess", exact: "1.0.2"),
    ],
    targets: [
        .executableTarget(
            name: "spawn-bench",
            dependencies: [
                .product(name: "Platform", package: tasker),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
