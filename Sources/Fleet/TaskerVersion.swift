/// Tasker's version: printed by `tasker --version` and written into every run's `run_started` event.
public enum TaskerVersion {
    public static let current = "0.9.0"
}
