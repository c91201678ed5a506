/// Signal names as SSH's `exit-signal` carries them (RFC 4254: the name
/// without `SIG`) and their Linux numbers: the one table for remote
/// commands, local commands and the workflow's exit codes (−N for a process
/// killed by signal N).
public enum SignalName {
    private static let numbers: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10,
        "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19,
        "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28,
        "IO": 29, "PWR": 30, "SYS": 31,
    ]
    private static let names = Dictionary(uniqueKeysWithValues: numbers.map { ($1, $0) })

    /// `KILL` for 9; the number itself for one without a name (real-time signals).
    public static func name(of number: Int32) -> String {
        names[number] ?? String(number)
    }

    /// 9 for `KILL` (also `SIGKILL`, or a number as `name(of:)` writes it); nil for a name not in the table.
    public static func number(of name: String) -> Int32? {
        let bare = name.hasPrefix("SIG") ? String(name.dropFirst(3)) : name
        return numbers[bare] ?? Int32(bare)
    }
}
