// Package unixplan holds the decisions that cordon's two Unix planners,
// internal/plan/linuxplan and internal/plan/macplan, share, so that one
// policy means the same on Linux and macOS:
//
//   - the command's environment ([ToolEnv]: cordon's proxy settings in
//     place of the caller's, TMPDIR, the tool caches in the private cache)
//     and its resource limits ([Rlimits]);
//   - the path helpers the planners use ([Under], [RootOf], [Outermost],
//     ...), on clean absolute slash paths, whatever system builds the code.
//
// It is pure and changes nothing, so it is tested on every system.
package unixplan
