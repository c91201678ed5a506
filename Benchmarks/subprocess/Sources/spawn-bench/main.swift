import Foundation
import Locking
import Platform
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs `true` (or the program given) N times one after another, as a workflow's
/// local tasks run, through each spawner in alternating rounds; both capture
/// stdout and stderr and put the child in a process group of its own.
final class Discard: OutputSink {
    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {}
}

let arguments = CommandLine.arguments.dropFirst()
let count = arguments.first.flatMap(Int.init) ?? 1000
let rounds = arguments.dropFirst().first.flatMap(Int.init) ?? 5
let program = "/bin/true"

func tasker() async throws -> Double {
    let sink = Discard()
    let start = ContinuousClock.now
    for _ in 0..<count {
        let ending = try await LocalProcess.run([program], timeout: 300, output: sink)
        precondition(ending.exitCode == 0)
    }
    return (ContinuousClock.now - start) / .seconds(1)
}

func subprocess() async throws -> Double {
    var options = PlatformOptions()
    options.processGroupID = 0
    let start = ContinuousClock.now
    for _ in 0..<count {
        let result = try await Subprocess.run(.path(FilePath(program)), platformOptions: options,
                                              output: .bytes(limit: 1 << 20), error: .bytes(limit: 1 << 20))
        precondition(result.terminationStatus.isSuccess)
    }
    return (ContinuousClock.now - start) / .seconds(1)
}

var ours: [Double] = []
var theirs: [Double] = []
for _ in 0..<rounds {
    ours.append(try await tasker())
    theirs.append(try await subprocess())
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let a = median(ours), b = median(theirs)
print(String(format: "%d spawns of %@, median of %d rounds: Platform.LocalProcess %.3f s (%.2f ms each), swift-subprocess 1.0.2 %.3f s (%.2f ms each); subprocess/ours = %.2f",
             count, program, rounds, a, 1000 * a / Double(count), b, 1000 * b / Double(count), b / a))
