// Package windows runs commands in cordon's unelevated Windows sandbox: a
// write-restricted token whose restricting SIDs are the writable roots'
// capability SIDs, the logon SID and Everyone; ACEs that let those SIDs
// write only inside the roots and never to protected paths; and a job object
// that holds every process the command starts.
//
// Every decision (which SIDs, which ACEs, which flags, which environment) is
// made by internal/plan/winplan, which is pure Go and tested on every system.
// This package only carries the decisions out with Win32 calls: it reads and
// writes DACLs, builds the token, creates the job and the process, and waits.
// On other systems every entry point returns [ErrUnsupported].
//
// What it promises, and what not, is listed by [Doctor] and by
// [Sandbox.Facts]: writes, protected paths, the process tree and the
// environment are enforced by design; reads are not; the network is
// advisory; and none of it has yet been verified on a real Windows host
// (the tests run under Wine, which runs the calls but enforces nothing).
package windows
