package agenthook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
)

// maxPayload bounds the hook input; Claude Code's payloads are a few KiB.
const maxPayload = 8 << 20

// ClaudeCodeBashTool is the name of Claude Code's shell tool, the one tool
// this adapter judges.
const ClaudeCodeBashTool = "Bash"

// PreToolUse is Claude Code's PreToolUse hook input: the common input
// fields and the tool call. Fields cordon does not use are kept in ToolInput
// only.
type PreToolUse struct {
	SessionID      string `json:"session_id"`
	TranscriptPath string `json:"transcript_path"`
	// Cwd is the directory Claude Code's session is in when the hook runs.
	Cwd            string `json:"cwd"`
	PermissionMode string `json:"permission_mode"`
	HookEventName  string `json:"hook_event_name"`
	ToolName       string `json:"tool_name"`
	ToolUseID      string `json:"tool_use_id"`
	// ToolInput is the tool's input as sent, every field kept, so that an
	// updated input can carry the fields cordon does not change.
	ToolInput map[string]json.RawMessage `json:"tool_input"`

	// Command is tool_input.command of a Bash call.
	Command string `json:"-"`
}

// ReadPreToolUse reads one PreToolUse payload. Anything that is not one
// JSON object in the documented shape is an error that says what is wrong;
// the caller must then block the tool call.
func ReadPreToolUse(r io.Reader) (*PreToolUse, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("read the hook input: %w", err)
	}
	if len(data) > maxPayload {
		return nil, fmt.Errorf("the hook input is larger than %d MiB; cordon reads one PreToolUse payload", maxPayload>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the hook input is empty; cordon expects Claude Code's PreToolUse JSON on standard input")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("the hook input is not valid UTF-8")
	}
	// Fields are matched by their exact names, as Claude Code writes them
	// (encoding/json alone would also take "TOOL_NAME" for tool_name).
	dec := json.NewDecoder(bytes.NewReader(data))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, fmt.Errorf("the hook input is not a PreToolUse JSON object: %v", errOr(err, "null"))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the hook input has data after its JSON object")
	}
	var in PreToolUse
	for name, dst := range map[string]any{
		"session_id": &in.SessionID, "transcript_path": &in.TranscriptPath, "cwd": &in.Cwd,
		"permission_mode": &in.PermissionMode, "hook_event_name": &in.HookEventName,
		"tool_name": &in.ToolName, "tool_use_id": &in.ToolUseID, "tool_input": &in.ToolInput,
	} {
		if raw, ok := fields[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return nil, fmt.Errorf("the hook input's %s has the wrong type: %v", name, err)
			}
		}
	}
	switch {
	case in.HookEventName != "PreToolUse":
		return nil, fmt.Errorf("hook_event_name is %q; cordon's Claude Code hook handles only PreToolUse (check the hooks entry in your settings)", in.HookEventName)
	case in.ToolName == "":
		return nil, errors.New("the hook input has no tool_name")
	case in.ToolInput == nil:
		return nil, errors.New("the hook input has no tool_input object")
	}
	if in.ToolName != ClaudeCodeBashTool {
		return &in, nil
	}
	raw, ok := in.ToolInput["command"]
	if !ok {
		return nil, errors.New("the Bash tool_input has no command")
	}
	if err := json.Unmarshal(raw, &in.Command); err != nil {
		return nil, errors.New("the Bash tool_input.command is not a string")
	}
	switch {
	case strings.TrimSpace(in.Command) == "":
		return nil, errors.New("the Bash tool_input.command is empty")
	case strings.ContainsRune(in.Command, 0):
		return nil, errors.New("the Bash tool_input.command contains a NUL byte, which no shell can run")
	}
	return &in, nil
}

// Answer is the hook's output for this tool call, as Claude Code's JSON on
// standard output with exit status 0. It is nil for tools other than Bash:
// no opinion, Claude Code goes on as without the hook.
//
// rules judge the command. sandboxed returns the command line that runs the
// given command inside cordon's sandbox; it replaces the command whenever
// the answer is allow or ask. For ask, Claude Code asks the user before it
// runs anything, so the command line sandboxed returns for askedUser runs
// only once a human approved it, and may say so to cordon. refused says
// the answer is deny.
func (in *PreToolUse) Answer(rules *cmdpolicy.Policy, sandboxed func(command string, askedUser bool) string) ([]byte, bool, error) {
	if in.ToolName != ClaudeCodeBashTool {
		return nil, false, nil
	}
	if rules == nil || sandboxed == nil {
		return nil, false, errors.New("agenthook: no command rules or no sandbox command")
	}
	res := rules.CheckScript(in.Command)
	out := hookOutput{HookEventName: "PreToolUse"}
	switch res.Decision {
	case cmdpolicy.Allow:
		out.PermissionDecision = "allow"
		out.PermissionDecisionReason = "cordon: allowed by the command rules; it runs inside cordon's sandbox"
	case cmdpolicy.Ask:
		out.PermissionDecision = "ask"
		out.PermissionDecisionReason = "cordon: " + explain(res, cmdpolicy.Ask) + ". If you approve, it runs inside cordon's sandbox."
	default:
		// Deny, and any decision this adapter does not know, refuse.
		out.PermissionDecision = "deny"
		out.PermissionDecisionReason = "cordon refused this command: " + explain(res, cmdpolicy.Deny) +
			". The policy forbids it; do not retry it in another form. If it is really needed, ask the user to run it or to change cordon's policy."
	}
	if out.PermissionDecision != "deny" {
		updated := make(map[string]json.RawMessage, len(in.ToolInput))
		for k, v := range in.ToolInput {
			updated[k] = v
		}
		cmd, err := marshal(sandboxed(in.Command, out.PermissionDecision == "ask"))
		if err != nil {
			return nil, false, err
		}
		updated["command"] = cmd
		out.UpdatedInput = updated
	}
	b, err := marshal(struct {
		HookSpecificOutput hookOutput `json:"hookSpecificOutput"`
	}{out})
	return b, out.PermissionDecision == "deny", err
}

// hookOutput is PreToolUse's hookSpecificOutput.
type hookOutput struct {
	HookEventName            string                     `json:"hookEventName"`
	PermissionDecision       string                     `json:"permissionDecision"`
	PermissionDecisionReason string                     `json:"permissionDecisionReason,omitempty"`
	UpdatedInput             map[string]json.RawMessage `json:"updatedInput,omitempty"`
}

// explain names the parts of the command line that got decision d (or
// stricter) and why.
func explain(res cmdpolicy.Result, d cmdpolicy.Decision) string {
	var parts []string
	for _, p := range res.Parts {
		if p.Decision < d {
			continue
		}
		s := fmt.Sprintf("%q: %s", oneLine(p.Command), p.Reason)
		if p.Rule != "" {
			s += " (rule " + p.Rule + ")"
		}
		parts = append(parts, s)
		if len(parts) == 3 {
			break
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("the command rules decided %v", res.Decision)
	}
	return strings.Join(parts, "; ")
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}
