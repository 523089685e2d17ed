// Package darwin runs commands in cordon's macOS sandbox. It carries out
// what internal/plan/macplan decides and adds no decisions of its own:
//
//   - the watcher (Main under WatcherArg) is cordon's binary re-executed
//     outside the sandbox as the run's parent. It starts
//     /usr/bin/sandbox-exec with the generated profile and its parameters
//     in a new session, follows every process of the run (macplan.Tree,
//     woken by kqueue EVFILT_PROC NOTE_FORK and a short tick), and kills
//     them all when the command ends, when cordon asks (timeout, cancel),
//     and when cordon dies (its control socket reads end-of-file);
//   - the shim (Main under macplan.ShimArg) is the first program inside the
//     sandbox: it proves the profile holds by being refused a write the
//     profile denies, sets the resource limits, and execs the command;
//   - HostFacts reads what the planner needs: the user's process count,
//     whether the volume ignores case, the paths of the standard
//     descriptors.
//
// Limits, stated in docs/macos.md too: a process of the run that calls
// setsid(2) and is orphaned between two looks at the process table is not
// found, and survives the run (inside the sandbox, with its proxy closed);
// the watcher itself can be killed by the user (not by the sandbox), after
// which cordon kills what it can find (KillRun). None of this has been
// verified on a real Mac: it is built and vetted for darwin/amd64 and
// darwin/arm64 on every change. On other systems every entry point returns
// ErrUnsupported.
package darwin
