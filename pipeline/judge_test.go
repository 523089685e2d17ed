package pipeline

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
)

// recordingApprover answers every question with answer and keeps them.
type recordingApprover struct {
	answer approval.Answer
	asked  []approval.Request
}

func (a *recordingApprover) Ask(_ context.Context, r approval.Request) (approval.Answer, error) {
	a.asked = append(a.asked, r)
	ans := a.answer
	ans.Channel = approval.ChannelCommand
	return ans, nil
}

// TestNetworkGrantsAreExact: an answer "for this session" to the proxy's
// question is remembered for exactly what the human was shown. A grant for
// one request a request rule asks about lets that request through again,
// and neither another request on the same host nor the host itself; a
// grant for reaching a host lets no request a rule asks about through.
func TestNetworkGrantsAreExact(t *testing.T) {
	merge := func(pr string) netproxy.Question {
		return netproxy.Question{Host: "api.github.com", Port: 443, Protocol: netproxy.ProtoHTTPS, Method: "PUT",
			Path: "/repos/acme/app/pulls/" + pr + "/merge", Rule: `network.requests "merge"`,
			Reason: `"PUT" "/repos/acme/app/pulls/` + pr + `/merge" on api.github.com:443: network.requests "merge" says to ask`}
	}
	host := netproxy.Question{Host: "api.github.com", Port: 443, Protocol: netproxy.ProtoConnect,
		Reason: "api.github.com:443 is not in the network policy"}
	allowSession := approval.Answer{Decision: approval.Allow, Scope: approval.ScopeSession, Approver: "test"}
	deny := approval.Answer{Decision: approval.Deny, Approver: "test"}

	for _, tc := range []struct {
		name    string
		granted netproxy.Question
		again   netproxy.Question   // asked again: remembered, not asked
		others  []netproxy.Question // each asked anew, and refused
	}{
		{"a request", merge("7"), merge("7"), []netproxy.Question{merge("8"), host}},
		{"a host", host, host, []netproxy.Question{merge("7")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(approval.SessionEnv, "judge-test-"+tc.name)
			home := t.TempDir()
			ap := &recordingApprover{answer: allowSession}
			j := &judge{workspace: filepath.Join(home, "ws"), home: home, log: audit.New(audit.IDs{}, io.Discard),
				ap: approval.Chain(time.Minute, ap), grants: approval.NewGrants(home), o: Options{Warnings: io.Discard}}
			asker := networkAsker{j}
			ctx := context.Background()

			if ok, err := asker.Ask(ctx, tc.granted); !ok || err != nil {
				t.Fatalf("the first question: %v, %v", ok, err)
			}
			ap.answer = deny
			if ok, err := asker.Ask(ctx, tc.again); !ok || err != nil || len(ap.asked) != 1 {
				t.Errorf("the same question again: %v, %v, asked %d times; want it remembered", ok, err, len(ap.asked))
			}
			for i, q := range tc.others {
				if ok, _ := asker.Ask(ctx, q); ok {
					t.Errorf("ESCAPED: %+v was let through by the grant for %+v", q, tc.granted)
				}
				if len(ap.asked) != 2+i {
					t.Errorf("%+v was not asked about", q)
				}
			}
		})
	}

	r := networkRequest(merge("7"))
	if r.Command != "PUT /repos/acme/app/pulls/7/merge on api.github.com:443" || r.Rule != `network.requests "merge"` ||
		r.Kind != approval.KindNetwork || !strings.Contains(r.Reason, "says to ask") {
		t.Errorf("the question about a request: %+v", r)
	}
	if r := networkRequest(host); r.Command != "api.github.com:443" || r.Category != "network-unfamiliar" {
		t.Errorf("the question about a host: %+v", r)
	}
}
