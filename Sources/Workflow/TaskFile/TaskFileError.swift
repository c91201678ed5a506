/// A task file problem that ends the run, with the exit code TASKER uses for it.
public struct TaskFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public var exitCode: Int32
    public var message: String

    public init(exitCode: Int32, _ message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    public var description: String { message }
}
