// Package agenthook adapts cordon to agents that accept a pre-tool hook, so
// that the shell commands such an agent runs go through cordon's command
// rules and then run inside `cordon run`.
//
// It holds, for Claude Code:
//
//   - the PreToolUse hook adapter (ReadPreToolUse, PreToolUse.Answer): it
//     reads the hook's JSON input, judges the Bash tool's command with the
//     command rules, and answers deny (with the reason, shown to the model),
//     ask (Claude Code asks the user) or allow; for ask and allow the
//     command is rewritten so that it runs inside the sandbox;
//   - the settings-file installer (InstallClaudeCode, UninstallClaudeCode):
//     it adds or removes cordon's hook entry and nothing else, keeping every
//     other key, hook and setting of the file;
//   - POSIX shell quoting (ShellQuote) used to build the rewritten command.
//
// # What it promises
//
//   - Input that cannot be read as a documented PreToolUse payload is an
//     error. The caller turns every error into Claude Code's blocking exit
//     status 2, so a command is never let through unsandboxed because cordon
//     did not understand it.
//   - A command that is allowed or asked about is never passed on as
//     written: the answer always replaces it with its sandboxed form.
//   - Install and uninstall are idempotent, and uninstall after install gives
//     back the settings the user had (formatting aside).
//
// The formats follow Claude Code's public hooks reference,
// https://code.claude.com/docs/en/hooks, as read on 2026-11-27 (the page
// revision that documents PreToolUse "defer" and the Claude Code v2.1.211
// auto-mode change). See docs/agents.md.
package agenthook
