// Package pipeline runs one command the way cordon runs every command,
// whichever way it came in: `cordon run`, `cordon shell`, the Claude Code
// hook (which rewrites a call into `cordon run`), the MCP server, its warm
// sandboxes, and a Go program that imports this package.
//
// Run takes a sandbox.Request and, in this order:
//
//  1. opens the audit trail the policy configures and records the policy
//     (policy_loaded) and the command (command_requested);
//  2. stops, before anything starts, when a sink the policy requires is
//     down (run_end "failed");
//  3. judges the command with the policy's command rules (decision): deny
//     refuses, ask goes to a remembered grant or to the Approver, and is
//     recorded (approval); no Approver means ask is deny;
//  4. hands over the credentials the policy scopes to the command, each
//     asked about where the policy says ask, and recorded by name, never by
//     value;
//  5. runs the command with sandbox.Run, or in a sandbox.Session's warm
//     sandboxes, with the audit log and a network asker that goes to the
//     same Approver;
//  6. records how the run ended (run_end), whatever happened.
//
// The events and their fields are documented in docs/audit.md.
//
// # Promises
//
//   - A command the rules deny, or that needs an approval nobody gave, does
//     not start: Run returns a *DeniedError, and the audit trail has the
//     decision and a run_end with outcome "denied".
//   - Every call of Run that gets as far as opening the audit trail ends
//     with one run_end event.
//   - An allowed command still runs inside the sandbox: the rules decide
//     what a human must see, the sandbox what the command can do.
//
// # Library use
//
// sandbox.Run is the boundary alone: no command rules, approvals,
// credentials or run-level audit events. A Go program that wants cordon's
// judgement calls Run here instead:
//
//	func main() {
//		sandbox.Init()
//		p, err := policy.Load(policy.Options{Workspace: ws, Home: home})
//		...
//		res, err := pipeline.Run(ctx, sandbox.Request{Policy: p, Workspace: ws, Home: home,
//			Argv: argv, Environ: os.Environ()}, pipeline.Options{Approver: myApprover})
//		var denied *pipeline.DeniedError
//		if errors.As(err, &denied) { ... }
//	}
//
// Options.Approver is the program's own way to ask a human; nil means
// nobody can be asked, so every ask is refused. Channels returns cordon's
// own channels (the policy's approver program, the web inbox, the
// terminal), as the CLI uses them.
package pipeline
