// Package mcpserver is cordon's MCP server: it gives any agent that speaks
// the Model Context Protocol a command tool whose every command runs inside
// cordon's sandbox.
//
// Tools, each with typed input and output schemas:
//
//   - run_command: runs a command line (with sh -c) or an argument vector
//     in the sandbox, in a working directory inside the workspace, and
//     returns the exit code, the output (each stream capped, with a marker
//     saying how much was cut), the duration and a list of what was refused
//     (a command rule, a human's approval, a host the proxy refused), each
//     phrased so that a model can act on it;
//   - check_command: the command rules' decision, without running anything;
//   - sandbox_info: the mode, the workspace, the writable roots, the
//     network, and what this machine enforces (the doctor facts).
//
// Commands run through Options.Run, which must be set; `cordon mcp` sets it
// to the run pipeline every front end goes through (package pipeline):
// audit trail, command rules, approvals, credentials, sandbox. There is no
// other way for a command to run. The server judges the command with the
// policy's own rules too, only to explain a refusal to the agent.
//
// # The wire
//
// ServeStdio speaks MCP as newline-delimited JSON-RPC 2.0 on standard
// input and output, with an implementation of this package (stdio.go,
// protocol.go) rather than an SDK's: an SDK's initialisers (JSON Schema,
// gob, OAuth) would run at every start of every cordon process, and the
// server needs only a little of MCP:
//
//   - the lifecycle: initialize, answered with the client's protocol
//     revision when the server speaks it (2025-11-25, 2025-06-18,
//     2025-03-26, 2024-11-05), else with its latest;
//     notifications/initialized; ping;
//   - tools/list, and tools/call with structured content (the output as
//     JSON, also given as text) or a tool error (isError, text);
//   - notifications/progress for a call that sent a progressToken, and
//     notifications/cancelled, which ends the call's context and leaves
//     it unanswered;
//   - logging/setLevel, accepted; empty lists for resources/list,
//     resources/templates/list and prompts/list.
//
// The tools' input and output schemas (types.go) are both what tools/list
// publishes and what a call's arguments are checked against. Tool calls
// run concurrently; everything else is answered in the order it came.
//
// A line that is not a JSON-RPC message (not UTF-8, not JSON, a batch,
// longer than MaxLineBytes) is answered with a JSON-RPC error (-32700 or
// -32600) and the session goes on; so is a request for a method the server
// does not have (-32601), or with params it cannot use (-32602).
//
// # What it promises
//
//   - The workspace and the policy are fixed when the server starts. No tool
//     argument can choose another policy, widen the writable roots, or turn
//     the sandbox off: the input schemas admit no such field, and unknown
//     fields are rejected.
//   - A working directory must resolve, symlinks followed, inside the
//     workspace.
//   - A timeout is never longer than the policy's.
//   - Cancelling a call (notifications/cancelled), or the client going
//     away, kills the command and everything it started.
//   - What is returned to the agent never carries the values of the
//     environment variables the policy withholds, nor host paths outside
//     the workspace: cordon's own error messages are redacted; the full
//     text goes to the server's log (stderr), for the human.
//   - Command output is returned as the command wrote it, capped; it is the
//     sandbox that keeps secrets out of reach of the command.
//   - No line the client sends ends the session; only the end of the
//     input, or an error writing the output, does.
package mcpserver
