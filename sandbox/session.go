package sandbox

import "context"

// A Session runs the commands of one agent session, one after another or
// side by side, each with the boundary Run would give it, and keeps warm
// sandboxes between them so that a command pays only for what is its own:
// the plan is checked, the command is forked inside a sandbox that is
// already built (namespaces, mounts, Landlock, seccomp, the supervisor),
// and the audit trail records it as Run does.
//
// What the commands of a session share, and what they do not:
//
//   - Each command is planned afresh; the boundary part of the last plan
//     is used again only while its input is the same and nothing it read
//     of the filesystem has changed (docs/linux.md, "Warm sandboxes"). A
//     sandbox is reused only when the new plan's boundary (mounts, masks, protected and reserved paths, Landlock,
//     seccomp, network, limits) is the same as the one it was built for;
//     otherwise, for instance after the workspace gained a .env or a policy
//     or approval changed the network, the command gets a new sandbox.
//   - Nothing a command started survives it: when it ends, every other
//     process of the sandbox's PID namespace is killed and reaped before
//     its exit is reported, the private /tmp and /dev/shm are emptied and
//     the System V IPC objects removed. A sandbox that cannot be cleaned is
//     retired.
//   - The filesystem view, the writable roots and the private tool cache
//     are the workspace's own, as for Run; files written there stay, as
//     they would between two runs.
//   - The supervisor's memory of the session carries over: files a command
//     made (so later commands may write to the hard links it made),
//     repositories it created (checked and disarmed after every command).
//   - A sandbox serves one command at a time; concurrent commands get
//     sandboxes of their own.
//
// Runs that cannot be warm are made cold, as Run makes them: the weaker
// landlock mode (no PID namespace to clear), full-access mode, credentials
// the proxy injects, and every system but Linux.
type Session struct {
	s *session
}

// NewSession returns a session with no sandbox yet; the first command
// builds one.
func NewSession() *Session { return &Session{s: newSession()} }

// Run runs one command of the session and waits for it; see Run for the
// request and the result.
func (s *Session) Run(ctx context.Context, req Request) (*Result, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	return s.s.run(ctx, req)
}

// Close ends the session's sandboxes; commands still running are killed.
func (s *Session) Close() error { return s.s.close() }
