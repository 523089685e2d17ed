// Package winplan decides everything cordon's Windows backend does, as plain
// Go that builds and is tested on every system.
//
// The unelevated mode confines a command with a write-restricted token (the
// design of OpenAI's Codex sandbox for Windows, openai/codex
// codex-rs/windows-sandbox-rs): a request holding a write right must pass
// the normal access check and a second one against the token's restricting
// SIDs (one random capability SID per writable root, a per-run instance SID,
// the logon SID and Everyone). ACEs on the file system then say where those
// SIDs may write. This package computes:
//
//   - the capability SIDs, drawn with crypto/rand and kept in a store in the
//     user's state directory, one per canonical root path ([State]), and the
//     run's instance SID;
//   - the ACEs wanted on writable roots, protected paths (with placeholders
//     for missing ones, and what a worktree's .git file names), the entries
//     below protected directories, the FILE_DELETE_CHILD denies for the user
//     that keep protected paths and cordon's state from being deleted through
//     their parents, and the null device; the merge of each into the DACL on
//     disk, so that a second run writes nothing, and cordon's own
//     propagation below directories ([Build], [Reconcile]);
//   - the binary forms of SIDs and ACLs the system-call layer reads and
//     writes ([EncodeACL], [DecodeACL]);
//   - a ledger of every ACE and placeholder added, which [Cleanup] removes
//     exactly;
//   - the token, desktop, job and environment specifications ([TokenSpec],
//     [DesktopSpec], [JobSpec], [EnvBlock], [CommandLine]), the private temp
//     root, and the refusal of an elevated caller ([CheckCaller]);
//   - the scan for directories writable through a restricting SID ([Scan]),
//     and its cache;
//   - the facts the backend can honestly claim ([Fact]);
//   - the elevated mode: its setup plan and undo ([PlanSetup]), the
//     deny-read ACEs for the sandbox group ([DenyReadGrants]), the sandbox
//     group's grants in a run's plan (Input.Sandbox), the choice of account
//     ([AccountFor]), and the runner's request, command line, environment
//     and token ([RunnerRequest], [RunnerTokenSpec]).
//
// The system calls live in internal/apply/windows, which implements [FS]
// and [Writer] over Win32 and follows these decisions without adding its
// own. The package accessmodel, a model of the Windows access check written
// independently from Microsoft's documentation, judges these plans in the
// tests.
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
// writes only. Deletes and moves of the user's files outside the writable
// roots are not confined either (NTFS grants DELETE through the parent's
// FILE_DELETE_CHILD, which the user holds), nor are the user's non-elevated
// processes (read and end), credential stores, network shares or the
// user's desktop; the network can only be steered through proxy variables.
// [ModeFacts] lists each with its reason, and the consent text of the
// windows-unelevated mode names them. None of this has yet been verified on
// a real Windows host; Wine runs the calls but enforces nothing.
package winplan
