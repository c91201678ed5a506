import SSH

/// The monotonic deadline type of the SSH layer, for callers above Fleet
/// (the workflow engine times local processes with the same clock).
public typealias Deadline = SSH.Deadline

/// SHA-256 from the SSH layer's crypto library (task file hashes, report IDs).
public typealias Digest = SSH.Digest

/// Host key checking policy, for callers above Fleet.
public typealias HostKeyPolicy = SSH.HostKeyPolicy

/// Which remote stream a live output line came from.
public typealias OutputStreamKind = SSH.OutputStreamKind

/// A `ProxyJump` / `-J` list, for checking `-J` on the command line.
public typealias JumpHostList = SSH.JumpHostList

/// How Tasker starts local programs, for the workflow engine's children.
public typealias ProcessSpawn = SSH.ProcessSpawn

/// The run's key files, passphrases and password, made by the command line.
public typealias Credentials = SSH.Credentials

/// Asking the user for a secret (the vault password), for the command line.
public typealias SecretPrompt = SSH.SecretPrompt

/// Environment variables for remote commands (`--env`).
public typealias RemoteEnvironment = SSH.RemoteEnvironment

/// Standard input for remote commands.
public typealias CommandInput = SSH.CommandInput

/// Running commands as another user (`--become`).
public typealias Become = SSH.Become

/// A password held in wiped memory (`--become-password-file`, `-K`).
public typealias Secret = SSH.Secret
