package approval

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fake is an approver with a scripted behaviour.
type fake struct {
	name   string
	answer Answer
	err    error
	block  bool // wait for ctx to end, then return its error
	calls  int
	got    Request
}

func (f *fake) Ask(ctx context.Context, r Request) (Answer, error) {
	f.calls++
	f.got = r
	if f.block {
		<-ctx.Done()
		return Answer{Channel: f.answer.Channel}, ctx.Err()
	}
	return f.answer, f.err
}

func unavailable(channel string) *fake {
	return &fake{name: channel, err: &UnavailableError{Channel: channel, Why: channel + " is not there", Setup: "set up " + channel}}
}

func answers(a Answer) *fake { return &fake{answer: a} }

func TestChain(t *testing.T) {
	cmd := Request{Command: "git push origin main", Argv: []string{"git", "push", "origin", "main"}, Cwd: "/w", Workspace: "/w"}
	withSession := cmd
	withSession.Session = "s1"
	network := Request{Kind: KindNetwork, Command: "example.com:443", Session: "s1"}

	tests := []struct {
		name      string
		req       Request
		approvers []*fake
		cancel    bool // the caller's context is cancelled before asking
		want      Answer
		wantErr   string // substring; "" means no error
		wantCalls []int
	}{
		{
			name:      "first available answers",
			req:       cmd,
			approvers: []*fake{answers(Answer{Decision: Allow, Scope: ScopeOnce, Channel: ChannelWeb, Approver: "alice"}), answers(Answer{Decision: Deny})},
			want:      Answer{Decision: Allow, Scope: ScopeOnce, Channel: ChannelWeb, Approver: "alice"},
			wantCalls: []int{1, 0},
		},
		{
			name:      "unavailable channels are skipped",
			req:       cmd,
			approvers: []*fake{unavailable("command"), unavailable("web"), answers(Answer{Decision: Deny, Channel: ChannelTerminal, Approver: "bob", Reason: "no"})},
			want:      Answer{Decision: Deny, Channel: ChannelTerminal, Approver: "bob", Reason: "no"},
			wantCalls: []int{1, 1, 1},
		},
		{
			name:      "none available is deny, and says how to set one up",
			req:       cmd,
			approvers: []*fake{unavailable("command"), unavailable("web"), unavailable("tty")},
			want:      Answer{Decision: Deny},
			wantErr:   "no approval channel is available",
			wantCalls: []int{1, 1, 1},
		},
		{
			name:      "no approvers at all is deny",
			req:       cmd,
			approvers: nil,
			want:      Answer{Decision: Deny},
			wantErr:   "no approval channel is available",
		},
		{
			name:      "a failing channel denies and does not fall through",
			req:       cmd,
			approvers: []*fake{{err: errors.New("approver command crashed"), answer: Answer{Channel: ChannelCommand}}, answers(Answer{Decision: Allow})},
			want:      Answer{Decision: Deny, Channel: ChannelCommand},
			wantErr:   "approver command crashed",
			wantCalls: []int{1, 0},
		},
		{
			name:      "an error with an allow is still a deny",
			req:       cmd,
			approvers: []*fake{{err: errors.New("broken pipe"), answer: Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelWeb}}},
			want:      Answer{Decision: Deny, Channel: ChannelWeb},
			wantErr:   "broken pipe",
			wantCalls: []int{1},
		},
		{
			name:      "no answer in time is a deny that says so",
			req:       cmd,
			approvers: []*fake{{block: true, answer: Answer{Channel: ChannelTerminal}}, answers(Answer{Decision: Allow})},
			want:      Answer{Decision: Deny, Channel: ChannelTerminal, TimedOut: true},
			wantCalls: []int{1, 0},
		},
		{
			name:      "the caller giving up is a deny with the error",
			req:       cmd,
			cancel:    true,
			approvers: []*fake{{block: true, answer: Answer{Channel: ChannelWeb}}},
			want:      Answer{Decision: Deny, Channel: ChannelWeb},
			wantErr:   "context canceled",
			wantCalls: []int{1},
		},
		{
			name:      "an answer that is neither allow nor deny is a deny",
			req:       cmd,
			approvers: []*fake{answers(Answer{Decision: "yes", Channel: ChannelCommand})},
			want:      Answer{Decision: Deny, Channel: ChannelCommand},
			wantErr:   "neither allow nor deny",
			wantCalls: []int{1},
		},
		{
			name:      "an unknown scope is a deny",
			req:       withSession,
			approvers: []*fake{answers(Answer{Decision: Allow, Scope: "forever", Channel: ChannelCommand})},
			want:      Answer{Decision: Deny, Channel: ChannelCommand},
			wantErr:   "unknown scope",
			wantCalls: []int{1},
		},
		{
			name:      "allow without a scope is once",
			req:       cmd,
			approvers: []*fake{answers(Answer{Decision: Allow, Channel: ChannelCommand})},
			want:      Answer{Decision: Allow, Scope: ScopeOnce, Channel: ChannelCommand},
			wantCalls: []int{1},
		},
		{
			name:      "session without a session id is narrowed to once",
			req:       cmd,
			approvers: []*fake{answers(Answer{Decision: Allow, Scope: ScopeSession, Channel: ChannelCommand})},
			want:      Answer{Decision: Allow, Scope: ScopeOnce, Channel: ChannelCommand},
			wantCalls: []int{1},
		},
		{
			name:      "session with a session id stays",
			req:       withSession,
			approvers: []*fake{answers(Answer{Decision: Allow, Scope: ScopeSession, Channel: ChannelWeb})},
			want:      Answer{Decision: Allow, Scope: ScopeSession, Channel: ChannelWeb},
			wantCalls: []int{1},
		},
		{
			name:      "always for a network request is narrowed to once",
			req:       network,
			approvers: []*fake{answers(Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelCommand})},
			want:      Answer{Decision: Allow, Scope: ScopeOnce, Channel: ChannelCommand},
			wantCalls: []int{1},
		},
		{
			name:      "a deny has no scope",
			req:       withSession,
			approvers: []*fake{answers(Answer{Decision: Deny, Scope: ScopeAlways, Channel: ChannelWeb})},
			want:      Answer{Decision: Deny, Channel: ChannelWeb},
			wantCalls: []int{1},
		},
		{
			name:      "an empty request is refused without asking",
			req:       Request{Cwd: "/w"},
			approvers: []*fake{answers(Answer{Decision: Allow})},
			want:      Answer{Decision: Deny},
			wantErr:   "nothing to ask about",
			wantCalls: []int{0},
		},
		{
			name:      "an unknown kind is refused without asking",
			req:       Request{Kind: "file", Command: "x"},
			approvers: []*fake{answers(Answer{Decision: Allow})},
			want:      Answer{Decision: Deny},
			wantErr:   "kind",
			wantCalls: []int{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var aps []Approver
			for _, f := range tt.approvers {
				aps = append(aps, f)
			}
			// The timeout only matters to the approvers that block.
			ch := Chain(50*time.Millisecond, aps...)
			ctx := context.Background()
			if tt.cancel {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			got, err := ch.Ask(ctx, tt.req)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if got.Decision != tt.want.Decision || got.Scope != tt.want.Scope || got.Channel != tt.want.Channel ||
				got.Approver != tt.want.Approver || got.TimedOut != tt.want.TimedOut {
				t.Errorf("answer = %+v, want %+v", got, tt.want)
			}
			if tt.want.Reason != "" && got.Reason != tt.want.Reason {
				t.Errorf("reason = %q, want %q", got.Reason, tt.want.Reason)
			}
			if got.Decision == Deny && tt.wantErr != "" && got.Reason == "" {
				t.Errorf("a deny caused by an error carries no reason")
			}
			if got.Latency < 0 {
				t.Errorf("latency %v is negative", got.Latency)
			}
			for i, want := range tt.wantCalls {
				if tt.approvers[i].calls != want {
					t.Errorf("approver %d asked %d times, want %d", i, tt.approvers[i].calls, want)
				}
			}
		})
	}
}

func TestChainNoApproverMessage(t *testing.T) {
	ch := Chain(time.Second, NewCommand(nil), NewInbox(t.TempDir(), nil))
	ans, err := ch.Ask(context.Background(), Request{Command: "npm install"})
	var none *NoApproverError
	if !errors.As(err, &none) {
		t.Fatalf("error = %v, want a *NoApproverError", err)
	}
	if ans.Allowed() {
		t.Fatal("no approver, yet allowed")
	}
	for _, want := range []string{"cordon approve", "approver = ["} {
		if !strings.Contains(none.Hint(), want) || !strings.Contains(ans.Reason, want) {
			t.Errorf("the hint %q and the reason %q should both say %q", none.Hint(), ans.Reason, want)
		}
	}
}

func TestChainGivesEveryApproverTheSameIDAndKind(t *testing.T) {
	a, b := unavailable("web"), answers(Answer{Decision: Deny})
	Chain(time.Second, a, b).Ask(context.Background(), Request{Command: "x"})
	if a.got.ID == "" || a.got.ID != b.got.ID {
		t.Errorf("request ids %q and %q: want one non-empty id", a.got.ID, b.got.ID)
	}
	if b.got.Kind != KindCommand {
		t.Errorf("kind = %q, want the default %q", b.got.Kind, KindCommand)
	}
}

func TestScopes(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"command without session", Request{Argv: []string{"git", "push"}}, "once,always"},
		{"command with session", Request{Argv: []string{"git", "push"}, Session: "s"}, "once,session,always"},
		{"script without argv", Request{Command: "git push && x", Session: "s"}, "once,session"},
		{"empty argument cannot be named by a rule", Request{Argv: []string{"git", "commit", "-m", ""}}, "once"},
		{"invalid utf-8 argument", Request{Argv: []string{"cat", "\xff"}}, "once"},
		{"network", Request{Kind: KindNetwork, Command: "h:443", Session: "s"}, "once,session"},
		{"credential", Request{Kind: KindCredential, Command: "GH_TOKEN", Argv: []string{"gh"}}, "once"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.req.Scopes(), ","); got != tt.want {
			t.Errorf("%s: Scopes() = %s, want %s", tt.name, got, tt.want)
		}
	}
}
