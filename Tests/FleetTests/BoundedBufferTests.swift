import XCTest
@testable import Fleet

final class BoundedBufferTests: XCTestCase {
    func testKeepsEverythingWhileItFits() {
        var buffer = BoundedBuffer(headLimit: 4, tailLimit: 4)
        buffer.append(Array("abcdefgh".utf8))
        XCTAssertFalse(buffer.isTruncated)
        XCTAssertEqual(buffer.text, "abcdefgh")
        XCTAssertEqual(buffer.totalBytes, 8)
    }

    func testKeepsHeadAndTailAndCountsEveryByte() {
        var buffer = BoundedBuffer(headLimit: 3, tailLimit: 4)
        for chunk in ["ab", "cde", "fgh", "i", "jklmn", "op"] {
            buffer.append(Array(chunk.utf8))
        }
        XCTAssertEqual(buffer.totalBytes, 16)
        XCTAssertTrue(buffer.isTruncated)
        XCTAssertEqual(buffer.omittedBytes, 9)
        XCTAssertEqual(String(decoding: buffer.headBytes, as: UTF8.self), "abc")
        XCTAssertEqual(String(decoding: buffer.tailBytes, as: UTF8.self), "mnop")
        XCTAssertEqual(buffer.text, "abc\n[... 9 bytes omitted ...]\nmnop")
    }

    func testChunkLargerThanTheTailReplacesIt() {
        var buffer = BoundedBuffer(headLimit: 2, tailLimit: 3)
        buffer.append(Array("xy".utf8))
        buffer.append(Array("0123456789".utf8))
        XCTAssertEqual(String(decoding: buffer.tailBytes, as: UTF8.self), "789")
        buffer.append(Array("ab".utf8))
        XCTAssertEqual(String(decoding: buffer.tailBytes, as: UTF8.self), "9ab")
    }

    func testMatchesANaiveModelOnRandomChunks() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let head = Int.random(in: 0...20, using: &generator)
            let tail = Int.random(in: 0...20, using: &generator)
            var buffer = BoundedBuffer(headLimit: head, tailLimit: tail)
            var all: [UInt8] = []
            for _ in 0..<Int.random(in: 0...30, using: &generator) {
                let chunk = (0..<Int.random(in: 0...25, using: &generator)).map { _ in UInt8.random(in: 97...122, using: &generator) }
                all += chunk
                buffer.append(chunk)
            }
            XCTAssertEqual(buffer.totalBytes, UInt64(all.count))
            if all.count <= head + tail {
                XCTAssertEqual(buffer.headBytes + buffer.tailBytes, all)
            } else {
                XCTAssertEqual(buffer.headBytes, Array(all.prefix(head)))
                XCTAssertEqual(buffer.tailBytes, Array(all.suffix(tail)))
            }
        }
    }
}

final class LineSplitterTests: XCTestCase {
    private func lines(_ chunks: [String], maximum: Int = 100) -> [String] {
        var splitter = LineSplitter(maximumLineLength: maximum)
        var out: [String] = []
        for chunk in chunks {
            Array(chunk.utf8).withUnsafeBytes { splitter.feed($0) { out.append(String(decoding: $0, as: UTF8.self)) } }
        }
        splitter.flush { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    func testJoinsLinesSplitAcrossChunksAndFlushesTheLastPartialLine() {
        XCTAssertEqual(lines(["a\nb", "c\n", "\nd"]), ["a", "bc", "", "d"])
    }

    func testOverlongLinesAreEmittedInPieces() {
        XCTAssertEqual(lines(["abcdefg\n"], maximum: 3), ["abcdefg"], "a complete line is emitted whole")
        XCTAssertEqual(lines(["abc", "def", "g"], maximum: 3), ["abc", "def", "g"])
    }
}
