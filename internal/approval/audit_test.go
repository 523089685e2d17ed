package approval

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

func TestEvent(t *testing.T) {
	r := Request{Command: "git push origin main", Argv: []string{"git", "push", "origin", "main"}}
	ev := Event(r, Answer{Decision: Allow, Scope: ScopeSession, Channel: ChannelWeb, Approver: "alice", Latency: 5210 * time.Millisecond})
	want := audit.Approval{Decision: "allow", Target: "git push origin main", Channel: "web", Approver: "alice", Scope: "session", Latency: audit.Duration(5210 * time.Millisecond)}
	if ev != want {
		t.Errorf("Event = %+v, want %+v", ev, want)
	}
	timedOut := Event(Request{Argv: []string{"terraform", "apply"}}, Answer{Decision: Deny, Channel: ChannelTerminal, TimedOut: true, Latency: time.Minute})
	if timedOut.Decision != "deny" || !timedOut.TimedOut || timedOut.Scope != "" || timedOut.Approver != "" || timedOut.Target != "terraform apply" {
		t.Errorf("timed-out Event = %+v", timedOut)
	}
	b, err := json.Marshal(ev)
	if err != nil || !strings.Contains(string(b), `"latency_ms":5210`) {
		t.Errorf("JSON %s, %v", b, err)
	}
}
