import Platform
@testable import SSH
import XCTest

/// How the start of a become'd command's output is read: prompts answered,
/// the marker found across chunk boundaries, the become program's words kept
/// out of the output and turned into a reason when it refuses.
final class BecomeHandshakeTests: XCTestCase {
    private struct Delivered {
        var stdout = ""
        var stderr = ""
    }

    private func feed(_ handshake: inout BecomeHandshake, _ text: String, _ stream: OutputStreamKind, into delivered: inout Delivered) {
        Array(text.utf8).withUnsafeBytes { bytes in
            handshake.consume(bytes, from: stream) { chunk, kind in
                let text = String(decoding: chunk, as: UTF8.self)
                if kind == .stdout { delivered.stdout += text } else { delivered.stderr += text }
            }
        }
    }

    func testSudoPromptIsAnsweredOnceAndTheMarkerSplitAcrossChunksStartsTheOutput() {
        let invocation = BecomeInvocation(Become(password: Secret("pw")))
        var handshake = BecomeHandshake(invocation, terminal: false)
        var delivered = Delivered()
        let prompt = invocation.sudoPrompt
        feed(&handshake, String(prompt.prefix(7)), .stderr, into: &delivered)
        XCTAssertNil(handshake.nextAnswer(), "half a prompt is no prompt")
        feed(&handshake, String(prompt.dropFirst(7)), .stderr, into: &delivered)
        XCTAssertEqual(handshake.nextAnswer(), .password)
        XCTAssertNil(handshake.nextAnswer(), "answered once")
        let marker = invocation.marker
        feed(&handshake, String(marker.prefix(10)), .stdout, into: &delivered)
        XCTAssertFalse(handshake.isReady)
        feed(&handshake, String(marker.dropFirst(10)) + "\nroot\n", .stdout, into: &delivered)
        XCTAssertTrue(handshake.isReady)
        feed(&handshake, "warning\n", .stderr, into: &delivered)
        XCTAssertEqual(delivered.stdout, "root\n")
        XCTAssertEqual(delivered.stderr, "warning\n", "the prompt is not output; the command's stderr is")
    }

    func testASecondPromptIsAWrongPasswordAndEndsTheInput() {
        let invocation = BecomeInvocation(Become(password: Secret("wrong")))
        var handshake = BecomeHandshake(invocation, terminal: false)
        var delivered = Delivered()
        feed(&handshake, invocation.sudoPrompt, .stderr, into: &delivered)
        XCTAssertEqual(handshake.nextAnswer(), .password)
        feed(&handshake, "Sorry, try again.\n" + invocation.sudoPrompt, .stderr, into: &delivered)
        XCTAssertEqual(handshake.nextAnswer(), .endOfInput)
        feed(&handshake, "\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n", .stderr, into: &delivered)
        XCTAssertFalse(handshake.isReady)
        XCTAssertEqual(handshake.failureReason(RemoteExit(exitCode: 1, signal: nil)), "sudo refused the become password (incorrect password)")
        XCTAssertEqual(delivered.stdout + delivered.stderr, "", "nothing reaches the output before the marker")
    }

    func testSuPromptsAreRecognisedByTheirWordsAndAMissingPasswordIsSaidSo() {
        XCTAssertTrue(BecomeHandshake.looksLikePasswordPrompt(ArraySlice("Password: ".utf8)))
        XCTAssertTrue(BecomeHandshake.looksLikePasswordPrompt(ArraySlice("doas (ops@web1) password:".utf8)))
        XCTAssertTrue(BecomeHandshake.looksLikePasswordPrompt(ArraySlice("Passwort: ".utf8)))
        XCTAssertFalse(BecomeHandshake.looksLikePasswordPrompt(ArraySlice("su: Authentication failure".utf8)))
        XCTAssertFalse(BecomeHandshake.looksLikePasswordPrompt(ArraySlice("password changed".utf8)))

        let invocation = BecomeInvocation(Become(method: .su, user: "postgres"))
        var handshake = BecomeHandshake(invocation, terminal: false)
        var delivered = Delivered()
        feed(&handshake, "Pass", .stderr, into: &delivered)
        XCTAssertNil(handshake.nextAnswer())
        feed(&handshake, "word: ", .stderr, into: &delivered)
        XCTAssertEqual(handshake.nextAnswer(), .endOfInput)
        feed(&handshake, "su: Authentication failure\n", .stderr, into: &delivered)
        XCTAssertEqual(handshake.failureReason(RemoteExit(exitCode: 1, signal: nil)),
                       "su to postgres: a password is required: give one with -K/--ask-become-pass or --become-password-file")
    }

    func testRefusalsAreReportedInTheBecomeProgramsWords() {
        let invocation = BecomeInvocation(Become(user: "daemon"))
        var notAllowed = BecomeHandshake(invocation, terminal: false)
        var delivered = Delivered()
        feed(&notAllowed, "Sorry, user ops is not allowed to execute '/bin/sh' as daemon on web1.\n", .stderr, into: &delivered)
        XCTAssertEqual(notAllowed.failureReason(RemoteExit(exitCode: 1, signal: nil)),
                       "sudo to daemon failed (exit 1): Sorry, user ops is not allowed to execute '/bin/sh' as daemon on web1.")

        var tty = BecomeHandshake(invocation, terminal: false)
        feed(&tty, "sudo: sorry, you must have a tty to run sudo\n", .stderr, into: &delivered)
        XCTAssertEqual(tty.failureReason(RemoteExit(exitCode: 1, signal: nil)),
                       "sudo needs a terminal on this host (sudo: sorry, you must have a tty to run sudo): run with --pty")

        var missing = BecomeHandshake(invocation, terminal: false)
        feed(&missing, "sh: 1: sudo: not found\n", .stderr, into: &delivered)
        XCTAssertEqual(missing.failureReason(RemoteExit(exitCode: 127, signal: nil)), "sudo is not installed on this host (sh: 1: sudo: not found)")
    }

    func testWhatTheBecomeProgramSaysBeforeTheMarkerIsKeptUnlessItIsOnlyPrompts() {
        let invocation = BecomeInvocation(Become(password: Secret("pw")))
        var handshake = BecomeHandshake(invocation, terminal: false)
        var delivered = Delivered()
        feed(&handshake, "sudo: unable to resolve host web1\n" + invocation.sudoPrompt, .stderr, into: &delivered)
        XCTAssertEqual(handshake.nextAnswer(), .password)
        feed(&handshake, invocation.marker + "\r\nout\n", .stdout, into: &delivered)
        XCTAssertTrue(handshake.isReady, "a terminal's \\r\\n ends the marker line too")
        XCTAssertEqual(delivered.stderr, "sudo: unable to resolve host web1\n")
        XCTAssertEqual(delivered.stdout, "out\n")
    }

    func testCommandLinesQuoteTheUserTheCommandAndTheEnvironment() {
        var environment = RemoteEnvironment()
        environment.set("A", "it's")
        let command = "echo 'x' \"$A\""
        let sudo = BecomeInvocation(Become(user: "o'brien")).commandLine(command, environment: environment)
        XCTAssertTrue(sudo.hasPrefix("sudo -H -n -u 'o'\\''brien' -- /bin/sh -c '"), sudo)
        XCTAssertTrue(sudo.hasSuffix("tasker-become \"$$\" 'echo '\\''x'\\'' \"$A\"'\nexit $?"), sudo)
        XCTAssertTrue(sudo.contains("export A='\\''it'\\''\\'\\'''\\''s'\\''"), "the export runs inside, after sudo resets the environment: \(sudo)")
        let withPassword = BecomeInvocation(Become(password: Secret("pw")))
        XCTAssertTrue(withPassword.commandLine("id", environment: .init()).hasPrefix("sudo -H -S -p '\(withPassword.sudoPrompt)' -u 'root' -- "))
        XCTAssertFalse(withPassword.commandLine("id", environment: .init()).contains("pw"), "the password is never on a command line")
        let su = BecomeInvocation(Become(method: .su, user: "pg")).commandLine("id", environment: .init())
        XCTAssertTrue(su.hasPrefix("su 'pg' -c '/bin/sh -c '\\''"), su)
        XCTAssertTrue(su.hasSuffix(" tasker-become '\"$$\"' '\\''id'\\'''\nexit $?"), su)
    }
}
