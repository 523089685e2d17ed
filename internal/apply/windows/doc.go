// Package windows runs commands in cordon's unelevated Windows sandbox: a
// write-restricted token whose restricting SIDs are the writable roots'
// capability SIDs, a per-run instance SID, the logon SID and Everyone; ACEs
// that let those SIDs write only inside the roots and never to protected
// paths; a desktop of its own; and a job object that holds every process the
// command starts.
//
// Every decision (which SIDs, which ACEs, which flags, which environment) is
// made by internal/plan/winplan, which is pure Go and tested on every system.
// This package only carries the decisions out with Win32 calls: it reads and
// writes DACLs through handles that follow no link (and refuses a path that
// leads elsewhere), builds the token, creates the desktop, the job and the
// process, and waits. setup_windows.go holds the elevated mode's setup and
// undo, runner_windows.go its run: the runner started as the sandbox
// account with CreateProcessWithLogonW, and [RunnerMain], the runner
// itself; neither verified on Windows. On other systems every entry point
// returns [ErrUnsupported].
//
// What it promises, and what not, is listed by [Doctor] and by
// [Sandbox.Facts]; none of it has yet been verified on a real Windows host
// (the tests run under Wine, which runs the calls but enforces nothing).
package windows
