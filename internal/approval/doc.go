// Package approval asks a human about an action the policy marks "ask", and
// remembers the answers that reach beyond one run.
//
// The channels (approvers) run outside the sandbox and out of its reach:
//
//   - the terminal: a prompt on the user's controlling terminal (/dev/tty),
//     never the command's standard input;
//   - the web inbox: `cordon approve` serves a page on 127.0.0.1 (package
//     approval/inbox); cordon processes find it through a file in cordon's
//     state directory and wait for the answer;
//   - an external command: the policy's approver program, given the request
//     as JSON on standard input and answering JSON on standard output.
//
// New chains them: the first channel that is available asks. With none
// available, or no answer before the timeout, the answer is deny.
//
// Grants remember "allow" answers whose scope reaches further than once:
// "session" grants for the runs that carry the same session id
// (CORDON_SESSION), kept in the state directory, and "always" grants,
// appended to the user's own policy file as command rules.
//
// # What it promises
//
//   - An answer is always usable: on any failure it is deny, and the error
//     says what failed and how to fix it.
//   - Everything an approver shows a human is made printable first
//     (Printable): control characters, escape sequences and invisible or
//     bidirectional formatting characters in text that came from an agent
//     cannot redraw the terminal or disguise a command.
//   - A sandboxed command cannot answer: the terminal is not its standard
//     input, the inbox's tokens and the grant store live in the state
//     directory, which the sandbox masks, and the inbox listens on the host's
//     loopback, which the sandbox's network namespace does not reach.
//   - Grants are written only outside every writable root: never into a
//     workspace, and "always" grants only into the user's own policy file.
//
// The channels, their setup and the JSON of the external command are
// documented in docs/approvals.md.
package approval
