// Package winplan decides everything cordon's unelevated Windows backend does,
// as plain Go that builds and is tested on every system.
//
// The backend confines a command with a write-restricted token (see
// codex-windows.md §4): a write must pass the normal access check and a
// second check against the token's restricting SIDs, which are one random
// capability SID per writable root, the logon SID and Everyone. ACEs on the
// file system then say where those SIDs may write. This package computes:
//
//   - the capability SIDs, drawn with crypto/rand and kept in a store in the
//     user's state directory, one per canonical root path, reused across runs
//     ([State]);
//   - the ACEs wanted on writable roots, protected paths (with placeholders for
//     the ones that do not exist yet) and the null device, and the difference
//     against the DACLs on disk, so that a second run on a stamped tree writes
//     nothing ([BuildACL], [Reconcile]);
//   - a ledger of every ACE and placeholder added, which [Cleanup] revokes;
//   - the token, job and environment specifications ([TokenSpec], [JobSpec],
//     [EnvBlock], [CommandLine]);
//   - the time-bounded scan for Everyone-writable directories ([Scan]);
//   - the facts the backend can honestly claim ([Fact]).
//
// The system calls live in internal/apply/windows, which implements [FS] and
// [Writer] over Win32 and follows these decisions without adding its own.
//
// # Paths
//
// All paths here are Windows paths held as strings (C:\dir, \\server\share\dir),
// whatever the host system: [CleanPath] normalises them and [PathKey] gives
// the case-folded key the store and the ledger compare by.
//
// # What this does not promise
//
// Reads are not confined: WRITE_RESTRICTED applies the restricting SIDs to
// writes only, so deny-read paths stay readable and a policy that lists them
// is refused unless the user accepted that weaker mode. The network can only
// be steered through proxy variables. Any directory that grants Everyone
// write access stays writable, which [Scan] looks for. None of this has yet
// been verified on a real Windows host; Wine runs the calls but enforces
// nothing.
package winplan
