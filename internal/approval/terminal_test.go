package approval

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseTerminalAnswer(t *testing.T) {
	all := []string{ScopeOnce, ScopeSession, ScopeAlways}
	onceOnly := []string{ScopeOnce}
	tests := []struct {
		line     string
		scopes   []string
		decision string
		scope    string
		ok       bool
	}{
		{"o", all, Allow, ScopeOnce, true},
		{"once", all, Allow, ScopeOnce, true},
		{" Y ", all, Allow, ScopeOnce, true},
		{"yes", all, Allow, ScopeOnce, true},
		{"s", all, Allow, ScopeSession, true},
		{"session", all, Allow, ScopeSession, true},
		{"a", all, Allow, ScopeAlways, true},
		{"ALWAYS", all, Allow, ScopeAlways, true},
		{"d", all, Deny, "", true},
		{"deny", all, Deny, "", true},
		{"n", all, Deny, "", true},
		{"", all, Deny, "", true}, // Enter alone never allows
		{"   ", all, Deny, "", true},
		{"s", onceOnly, "", "", false}, // a scope not offered is not an answer
		{"a", onceOnly, "", "", false},
		{"allow", all, "", "", false},
		{"oo", all, "", "", false},
		{"yes please", all, "", "", false},
	}
	for _, tt := range tests {
		d, s, ok := parseTerminalAnswer(tt.line, tt.scopes)
		if d != tt.decision || s != tt.scope || ok != tt.ok {
			t.Errorf("parseTerminalAnswer(%q, %v) = %q, %q, %v; want %q, %q, %v", tt.line, tt.scopes, d, s, ok, tt.decision, tt.scope, tt.ok)
		}
	}
}

// pipeTTY stands in for a terminal: what the human types goes into in,
// what the prompt writes is kept in out.
type pipeTTY struct {
	r    *os.File
	in   *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func newPipeTTY(t *testing.T) *pipeTTY {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return &pipeTTY{r: r, in: w}
}

func (p *pipeTTY) Read(b []byte) (int, error)        { return p.r.Read(b) }
func (p *pipeTTY) SetReadDeadline(t time.Time) error { return p.r.SetReadDeadline(t) }
func (p *pipeTTY) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}
func (p *pipeTTY) shown() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func TestPromptShowsTheRequestSafely(t *testing.T) {
	tty := newPipeTTY(t)
	r := Request{
		Command:  "git push --force origin main\x1b[2J\x1b[1;1Hgit status",
		Argv:     []string{"git", "push", "--force", "origin", "main"},
		Cwd:      "/home/u/src/app\u202e",
		Category: "pr-merge", Rule: "pr-merge/git-push-force",
		Reason:  "force-pushing rewrites history\r\nallowed by policy",
		Session: "s1",
	}
	tty.in.WriteString("s\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ans, err := prompt(ctx, tty, r, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ans.Decision != Allow || ans.Scope != ScopeSession || ans.Approver != "alice" || ans.Channel != ChannelTerminal {
		t.Errorf("answer = %+v", ans)
	}
	out := tty.shown()
	for _, want := range []string{`git push --force origin main\x1b[2J\x1b[1;1Hgit status`, `/home/u/src/app\u202e`,
		"pr-merge (rule pr-merge/git-push-force)", `history\r\nallowed`, "[o] once", "[s] this session", "[a] always", "[d] deny", "means deny"} {
		if !strings.Contains(out, want) {
			t.Errorf("the prompt does not show %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("the prompt passes an escape or bidi character through:\n%q", out)
	}
}

func TestPromptAnswers(t *testing.T) {
	tests := []struct {
		name, typed string
		session     bool
		decision    string
		scope       string
	}{
		{"once", "o\n", false, Allow, ScopeOnce},
		{"always with carriage return (raw mode)", "a\r", false, Allow, ScopeAlways},
		{"deny", "d\n", false, Deny, ""},
		{"empty line denies", "\n", false, Deny, ""},
		{"session not offered, then once", "s\no\n", false, Allow, ScopeOnce},
		{"three wrong answers deny", "x\ny\x00z\nallow\n", false, Deny, ""},
		{"eof after a word", "a", false, Allow, ScopeAlways},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tty := newPipeTTY(t)
			r := Request{Command: "npm install left-pad", Argv: []string{"npm", "install", "left-pad"}}
			if tt.session {
				r.Session = "s"
			}
			tty.in.WriteString(tt.typed)
			tty.in.Close()
			ans, err := prompt(context.Background(), tty, r, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if ans.Decision != tt.decision || ans.Scope != tt.scope {
				t.Errorf("typed %q: answer = %+v, want %s %s", tt.typed, ans, tt.decision, tt.scope)
			}
		})
	}
}

func TestPromptTimesOut(t *testing.T) {
	tty := newPipeTTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := prompt(ctx, tty, Request{Command: "terraform apply"}, "alice")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the deadline", err)
	}
	if !strings.Contains(tty.shown(), "no answer in time: denied") {
		t.Errorf("the terminal was not told: %q", tty.shown())
	}
	// Through the chain, the timeout is a deny with TimedOut set.
	ans, err := Chain(100*time.Millisecond, approverFunc(func(ctx context.Context, r Request) (Answer, error) {
		return prompt(ctx, newPipeTTY(t), r, "alice")
	})).Ask(context.Background(), Request{Command: "terraform apply"})
	if err != nil || ans.Allowed() || !ans.TimedOut {
		t.Fatalf("chain answer = %+v, %v; want a timed-out deny", ans, err)
	}
}

type approverFunc func(context.Context, Request) (Answer, error)

func (f approverFunc) Ask(ctx context.Context, r Request) (Answer, error) { return f(ctx, r) }
