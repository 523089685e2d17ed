// Package unixplan holds the decisions that cordon's two Unix planners,
// internal/plan/linuxplan and internal/plan/macplan, share, so that one
// policy means the same on Linux and macOS:
//
//   - which paths are denied reading ([Host.Denied]): cordon's private
//     paths, the policy's absolute deny_read entries and globs, and the
//     matches of workspace patterns (.env, *.pem) searched below the roots
//     to [MaxPatternDepth], outside dependency and build directories, minus
//     the allow_read exceptions;
//   - which paths are kept read-only inside the writable roots
//     ([Host.Protected]): the policy's protected entries, the policy files,
//     the git directories a .git file points to ([Host.GitDirs]), each
//     turned into its first missing component when a parent is absent
//     ([Host.FirstMissing]), with symbolic links on the way refused;
//   - which directories must keep their names ([Ancestors]), which host
//     sockets a policy grants ([Host.SocketGrants]);
//   - the command's environment ([ToolEnv]: cordon's proxy settings in
//     place of the caller's, TMPDIR, the tool caches in the private cache)
//     and its resource limits ([Rlimits]);
//   - the path helpers all of these use ([Under], [RootOf], [Outermost],
//     ...), on clean absolute slash paths, whatever system builds the code.
//
// It is pure: it reads the file system only through [FS], which each
// planner adapts to its own view (Linux: the host's paths as
// filepath.EvalSymlinks resolves them; macOS: paths as Seatbelt sees them,
// /private and a volume's case included), and changes nothing, so it is
// tested on every system with a fake.
//
// Where the two systems decide differently, the difference is a field of
// [Host] that says why, and each planner sets it; nothing here guesses the
// system. What only one system needs (Linux's mounts and Landlock
// complement, macOS's profile, resolver and hard links) stays in its
// planner.
package unixplan
