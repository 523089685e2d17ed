// Package macplan decides everything cordon's macOS backend does, as plain
// Go that builds and is tested on every system: the Seatbelt (SBPL) profile
// for a policy, its parameters, the command's environment and resource
// limits, the enforcement report, and which processes belong to a run. The
// system calls that carry it out live in internal/apply/darwin, which adds no
// decisions of its own. None of it has been verified on a real Mac yet;
// every report says so (see docs/macos.md and scripts/macos/verify.sh).
//
// # The profile
//
// [Make] builds a [Profile] as data and renders it once. It denies by
// default, then lists every allow rule, then every deny rule: Seatbelt
// applies the last rule that matches an operation, so an explicit deny (a
// secret, a protected path) always wins over the broad allows before it.
//
//   - Reads: allowed everywhere except the denied paths: the policy's
//     deny_read entries, whether they exist or not; macOS's own secret
//     places ([MacSecrets]); cordon's state; and the existing matches of
//     workspace patterns such as .env, searched as on Linux
//     (internal/plan/unixplan).
//   - Writes: only below the writable roots (the workspace, the policy's
//     extra roots, the private cache) and the run's private TMPDIR. Protected
//     paths are denied by literal and by subpath, so an absent one stays
//     uncreatable without a placeholder; writable roots and every directory
//     between a root and a protected or denied path keep their names (no
//     rename, no removal), so nothing can be moved out from under a rule.
//     Hard links cannot be created (file-link is never allowed) and existing
//     ones inside the roots are protected one by one.
//   - Network: no TCP or UDP at all, or only to cordon's proxy on
//     localhost:PORT; unix sockets only below the writable places and the
//     host sockets the policy grants.
//   - Services: the Mach services in [AllowedServices], each with its
//     reason; the classes in [DeniedClasses] (keychain, pasteboard,
//     AppleEvents and accessibility, LaunchServices and launchd jobs, ...)
//     are denied again by name at the end.
//   - Processes: signals and process information only within the sandbox;
//     the programs that exist to change user are refused at exec.
//
// # Parameters, never pasted paths
//
// No path and no text from the policy or the user appears in the profile.
// Every path is a parameter, (param "KEY"), whose value travels beside the
// profile as a sandbox-exec -DKEY=VALUE argument and is never parsed as
// SBPL, so a path holding quotes, parentheses, backslashes or newlines cannot
// change what the profile says. The profile's own constants (service names,
// sysctl names, device paths) are checked against a small character set
// when rendering.
//
// # Paths as Seatbelt sees them
//
// Seatbelt compares rules with the path of a file as the kernel resolves
// it: /var/folders/... is /private/var/folders/..., /tmp is /private/tmp,
// /etc is /private/etc. The planner resolves every path through [FS] (facts
// the tests give), including paths whose last components do not exist yet,
// and on a volume that ignores case it spells each existing component as the
// directory does.
//
// # What macOS cannot give
//
// limits.memory has no equivalent: XNU refuses an address-space limit below
// what a process already maps, and every process maps the shared cache, so a
// policy that sets one is refused unless the weaker mode
// "macos-no-memory-limit" is accepted. RLIMIT_NPROC counts all of the
// user's processes, so max_processes is set that far above the count at the
// start. The process tree is followed by [Tree], whose limits its comment
// states.
package macplan
