package text

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

func event(p audit.Payload) *audit.Event {
	return &audit.Event{Schema: 1, Time: time.Date(2026, 11, 27, 9, 14, 3, 0, time.UTC), Session: "s", Run: "5f0e2c7a91b34d60", Kind: p.Kind(), Payload: p}
}

func TestLines(t *testing.T) {
	cases := []struct {
		p    audit.Payload
		want []string
	}{
		{audit.Decision{Decision: "deny", Subject: "command", Target: "git push --force", Rule: `policy.toml:3 "git push" = "deny"`, Category: "merge_or_push"}, []string{"decision", "deny command git push --force [merge_or_push]", `(policy.toml:3 "git push" = "deny")`}},
		{audit.ProcessExit{PID: 1, ExitCode: 137, Signal: "SIGKILL", Duration: audit.Duration(4430 * time.Millisecond), PeakMemoryBytes: 412155904}, []string{"killed by SIGKILL (exit 137)", "4.43s", "mem 393.1MiB"}},
		{audit.NetworkConnection{Host: "proxy.golang.org", Port: 443, Address: "142.250.185.81", Protocol: "connect", Decision: "allow", BytesSent: 2841, BytesReceived: 184410, Duration: audit.Duration(612 * time.Millisecond)}, []string{"allow proxy.golang.org:443 (142.250.185.81) connect", "sent 2.8KiB received 180.1KiB in 612ms"}},
		{audit.CommandRequested{Argv: []string{"sh", "-c", "echo 'hi' && rm x"}, Cwd: "/w", Source: "mcp"}, []string{`sh -c 'echo '\''hi'\'' && rm x'`, "(mcp, in /w)"}},
		{audit.SinkFailure{Sink: "otlp", Required: true, Error: "refused", Pending: 3}, []string{"sink otlp failed: refused; 3 waiting, 0 lost (required"}},
	}
	for _, tc := range cases {
		line := Line(event(tc.p), Style{})
		if !strings.Contains(line, "5f0e2c7a ") || strings.Contains(line, "\x1b") {
			t.Errorf("%s: %q", tc.p.Kind(), line)
		}
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q lacks %q", tc.p.Kind(), line, w)
			}
		}
	}
	if line := Line(event(audit.Decision{Decision: "deny"}), Style{Color: true}); !strings.Contains(line, red+bold+"deny"+reset) {
		t.Errorf("no colour for deny: %q", line)
	}
}

// A command line chosen by the agent must not reach the terminal as control
// sequences (clear screen, change title, bidi overrides).
func TestControlCharactersAreEscaped(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[2J\u202eexe.txt\r"
	var out bytes.Buffer
	s := New(&out, false)
	for _, p := range []audit.Payload{
		audit.CommandRequested{Argv: []string{"echo", evil}, Cwd: evil, Agent: evil},
		audit.Decision{Decision: "allow", Target: evil, Rule: evil},
		audit.AccessDenied{Path: evil, Detail: evil},
	} {
		if err := s.Write(event(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e"} {
		if strings.Contains(out.String(), bad) {
			t.Fatalf("output contains %q:\n%q", bad, out.String())
		}
	}
	if !strings.Contains(out.String(), `\x1b]0;pwned`) {
		t.Fatalf("the escaped text is not visible: %q", out.String())
	}
}
