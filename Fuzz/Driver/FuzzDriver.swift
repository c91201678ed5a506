import FuzzTargets
import Foundation

/// `tasker-fuzz`: built with `-sanitize=fuzzer -DFUZZING` (scripts/fuzz.sh) it is a
/// libFuzzer binary for the target TASKER_FUZZ_TARGET names; built plainly,
/// `tasker-fuzz TARGET FILE...` runs each input once, to replay a finding under a debugger.
@main
struct FuzzDriver {
    static func main() {
        #if FUZZING
        guard let name = ProcessInfo.processInfo.environment["TASKER_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
            usage("TASKER_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        selected = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzDriver.selected?.run(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
        #else
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            usage("usage: tasker-fuzz TARGET FILE...")
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            target.run([UInt8](data))
        }
        #endif
    }

    nonisolated(unsafe) static var selected: FuzzTarget?

    static func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}

#if FUZZING
/// libFuzzer's driver, for a program that has its own main.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif
