import Foundation
import FuzzTargets
import XCTest

/// Replays every seed and every finding of the fuzz targets (`Fuzz/Corpus/TARGET`,
/// `Fuzz/Regressions/TARGET`): each must run to completion, quickly.
final class FuzzRegressionTests: XCTestCase {
    private let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    func testEverySeedAndFindingRunsToCompletion() throws {
        var replayed = 0
        for target in FuzzTarget.allCases {
            for kind in ["Corpus", "Regressions"] {
                let directory = "\(fuzzDirectory)/\(kind)/\(target.rawValue)"
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory).sorted()) ?? [] {
                    let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(directory)/\(name)"))
                    let started = Date()
                    target.run([UInt8](data))
                    XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(kind)/\(target.rawValue)/\(name) is slow")
                    replayed += 1
                }
            }
            XCTAssertFalse(((try? FileManager.default.contentsOfDirectory(atPath: "\(fuzzDirectory)/Corpus/\(target.rawValue)")) ?? []).isEmpty,
                           "\(target.rawValue) has a seed corpus")
        }
        XCTAssertGreaterThan(replayed, 0)
    }
}
