//go:build unix

package approval

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// script returns an approver command that runs a shell script.
func script(t *testing.T, body string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "approver.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{path}
}

func TestCommandApprover(t *testing.T) {
	req := Request{ID: "r1", Command: "kubectl apply -f deploy.yaml", Argv: []string{"kubectl", "apply", "-f", "deploy.yaml"},
		Cwd: "/w", Workspace: "/w", Session: "s1", Category: "deploy", Rule: "deploy/kubectl", Reason: "changes the cluster"}
	tests := []struct {
		name    string
		body    string
		want    Answer
		wantErr string
	}{
		{"allow for the session", `cat >/dev/null; echo '{"decision":"allow","scope":"session","approver":"alice@corp","reason":"ticket OPS-1"}'`,
			Answer{Decision: Allow, Scope: ScopeSession, Channel: ChannelCommand, Approver: "alice@corp", Reason: "ticket OPS-1"}, ""},
		{"deny", `cat >/dev/null; printf '{"decision": "deny", "reason": "not on Fridays"}\n'`,
			Answer{Decision: Deny, Channel: ChannelCommand, Approver: "approver.sh", Reason: "not on Fridays"}, ""},
		{"allow without a scope is once", `echo '{"decision":"allow"}'`,
			Answer{Decision: Allow, Scope: ScopeOnce, Channel: ChannelCommand, Approver: "approver.sh"}, ""},
		{"no output", `cat >/dev/null`, Answer{Decision: Deny, Channel: ChannelCommand}, "printed nothing"},
		{"not JSON", `echo yes`, Answer{Decision: Deny, Channel: ChannelCommand}, "not the expected JSON object"},
		{"misspelt field", `echo '{"decison":"allow"}'`, Answer{Decision: Deny, Channel: ChannelCommand}, "unknown field"},
		{"no decision", `echo '{"scope":"once"}'`, Answer{Decision: Deny, Channel: ChannelCommand}, `without a "decision"`},
		{"bad decision", `echo '{"decision":"approve"}'`, Answer{Decision: Deny, Channel: ChannelCommand}, `"approve"; use "allow" or "deny"`},
		{"bad scope", `echo '{"decision":"allow","scope":"forever"}'`, Answer{Decision: Deny, Channel: ChannelCommand}, `"forever"`},
		{"two objects", `echo '{"decision":"deny"}{"decision":"allow"}'`, Answer{Decision: Deny, Channel: ChannelCommand}, "more than one JSON value"},
		{"text after the object", `echo '{"decision":"allow"} ok'`, Answer{Decision: Deny, Channel: ChannelCommand}, "more than one JSON value"},
		{"exit status", `echo '{"decision":"allow"}'; echo 'vault sealed' >&2; exit 3`, Answer{Decision: Deny, Channel: ChannelCommand}, "vault sealed"},
		{"too much output", `head -c 100000 /dev/zero | tr '\0' ' '; echo '{"decision":"allow"}'`, Answer{Decision: Deny, Channel: ChannelCommand}, "more than"},
		{"escape sequences in the error are made printable", "printf 'no\\033[2J'", Answer{Decision: Deny, Channel: ChannelCommand}, `no\\x1b[2J`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Chain(time.Minute, NewCommand(script(t, tt.body))).Ask(context.Background(), req)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if got.Decision != tt.want.Decision || got.Scope != tt.want.Scope || got.Channel != tt.want.Channel ||
				(tt.want.Approver != "" && got.Approver != tt.want.Approver) || (tt.want.Reason != "" && got.Reason != tt.want.Reason) {
				t.Errorf("answer = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCommandApproverInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	wd := filepath.Join(dir, "wd")
	argv := script(t, `cat > "$1"; pwd > "$2"; echo '{"decision":"deny"}'`)
	argv = append(argv, in, wd)
	req := Request{ID: "r1", Command: "git push origin main", Argv: []string{"git", "push", "origin", "main"},
		Cwd: "/w/sub", Workspace: "/w", Session: "s1", Category: "pr-merge", Rule: "pr-merge/git-push-protected", Reason: "protected branch"}
	if _, err := Chain(90*time.Second, NewCommand(argv)).Ask(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("the approver's input is not JSON: %v\n%s", err, data)
	}
	want := map[string]any{"version": 1.0, "id": "r1", "kind": "command", "command": "git push origin main",
		"cwd": "/w/sub", "workspace": "/w", "session": "s1", "category": "pr-merge",
		"rule": "pr-merge/git-push-protected", "reason": "protected branch"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("input %q = %v, want %v", k, got[k], v)
		}
	}
	if s, _ := json.Marshal(got["argv"]); string(s) != `["git","push","origin","main"]` {
		t.Errorf("input argv = %s", s)
	}
	if s, _ := json.Marshal(got["scopes"]); string(s) != `["once","session","always"]` {
		t.Errorf("input scopes = %s", s)
	}
	if secs, _ := got["timeout_seconds"].(float64); secs < 1 || secs > 90 {
		t.Errorf("input timeout_seconds = %v, want the time left (at most 90)", got["timeout_seconds"])
	}
	home, _ := os.UserHomeDir()
	if b, _ := os.ReadFile(wd); strings.TrimSpace(string(b)) != home {
		t.Errorf("the approver ran in %q, want the home directory %q (never the workspace)", strings.TrimSpace(string(b)), home)
	}
}

func TestCommandApproverNotFoundIsAFailureNotUnavailable(t *testing.T) {
	// A configured approver that cannot run must deny, not fall through to
	// another channel: the organisation chose this one.
	next := answers(Answer{Decision: Allow, Channel: ChannelTerminal})
	ans, err := Chain(time.Minute, NewCommand([]string{"/nonexistent/approver"}), next).Ask(context.Background(), Request{Command: "x"})
	if err == nil || ans.Allowed() || next.calls != 0 {
		t.Fatalf("answer = %+v, err = %v, next asked %d times; want a deny without falling through", ans, err, next.calls)
	}
	if !strings.Contains(err.Error(), "could not be started") {
		t.Errorf("error = %v", err)
	}
	var u *UnavailableError
	if _, err := NewCommand(nil).Ask(context.Background(), Request{Command: "x"}); !errors.As(err, &u) {
		t.Errorf("no command configured: error = %v, want unavailable", err)
	}
}
