// Package jsonl is the audit trail's file sink: an append-only JSON-lines
// file, one event a line, each line carrying the hash of the one before it
// (docs/audit.md, "The file sink and its hash chain").
//
// It promises:
//   - Many processes can append to one log at once: each append happens under
//     an exclusive lock on <log>.head with a single write on an O_APPEND
//     file, so lines never interleave, and seq stays consistent because the
//     end of the chain is read under the same lock.
//   - A writer killed mid-append leaves at most one incomplete last line; the
//     next writer closes it with a recovery event and the chain goes on.
//   - Rotation by size keeps one chain across files (audit.<seq>.jsonl).
//   - Flush and Close fsync; with Options.SyncEachEvent every event does.
//   - Verify reports, by file, line and seq, every place the chain breaks,
//     and tells truncation (a crash, a cut file) from tampering.
//
// Read reads a log and its rotated files for tail and summary.
package jsonl
