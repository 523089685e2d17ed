package netproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requestRulesFixture intercepts api.test (a credential is injected into
// it) and governs its requests: GET allowed, PUT on a merge path asked,
// DELETE denied, everything else asked. plain.test (port 80 rules, plain
// HTTP) and other.test (governed, but no credential) are governed too.
func requestRulesFixture(t *testing.T, asker Asker) *interceptFixture {
	return newInterceptFixtureWith(t, func(f *interceptFixture, cfg *Config, opts *Options) {
		port := strconv.Itoa(f.api.port)
		cfg.Requests = []RequestRule{
			{Name: "read", Host: f.apiHost, Methods: []string{"GET"}, Decision: RequestAllow},
			{Name: "merge", Host: f.apiHost, Methods: []string{"PUT"}, Path: "/repos/*/*/pulls/*/merge", Decision: RequestAsk, Reason: "merges are reviewed"},
			{Name: "no-delete", Host: f.apiHost, Methods: []string{"DELETE"}, Decision: RequestDeny},
			{Name: "rest", Host: f.apiHost, Decision: RequestAsk},
			{Name: "plain-no-delete", Host: "plain.test:" + port, Methods: []string{"DELETE"}, Decision: RequestDeny},
			{Name: "other", Host: f.otherHost, Decision: RequestAllow},
		}
		opts.Asker = asker
	})
}

func do(t *testing.T, c *http.Client, method, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader("body-not-for-the-audit"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRequestRulesOnInterceptedHost(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			asker := &fakeAsker{answer: true}
			f := requestRulesFixture(t, asker)
			c := f.client(f.cordonPool(), h2)
			base := "https://" + f.apiHost
			type want struct {
				method, path string
				status       int
				reaches      bool
				rule         string
			}
			cases := []want{
				{"GET", "/repos/a/b", 200, true, `network.requests "read"`},
				{"DELETE", "/repos/a/b", 403, false, `network.requests "no-delete"`},
				{"delete", "/repos/a/b", 403, false, `network.requests "no-delete"`},
				{"PUT", "/repos/a/b/pulls/7/merge", 200, true, `network.requests "merge", approved when asked`},
				{"GET", "/repos/a/../b", 403, false, "network.requests"},
			}
			for _, tc := range cases {
				resp, body := do(t, c, tc.method, base+tc.path)
				if resp.StatusCode != tc.status {
					t.Errorf("%s %s: status %d, want %d: %s", tc.method, tc.path, resp.StatusCode, tc.status, body)
				}
				if tc.status == 403 && !strings.Contains(resp.Header.Get("X-Cordon-Denied"), "rule="+tc.rule) {
					t.Errorf("%s %s: X-Cordon-Denied %q does not name %s", tc.method, tc.path, resp.Header.Get("X-Cordon-Denied"), tc.rule)
				}
			}
			// The server's own record: only what the rules let through.
			var got []string
			for _, r := range f.api.requests() {
				got = append(got, r.Method+" "+r.Path)
			}
			if strings.Join(got, ",") != "GET /repos/a/b,PUT /repos/a/b/pulls/7/merge" {
				t.Errorf("the server got %v, want only the allowed GET and the approved PUT", got)
			}
			if len(asker.asked) != 1 || asker.asked[0].Method != "PUT" || asker.asked[0].Path != "/repos/a/b/pulls/7/merge" ||
				asker.asked[0].Rule != `network.requests "merge"` || !strings.Contains(asker.asked[0].Reason, "PUT") ||
				!strings.Contains(asker.asked[0].Reason, "/repos/a/b/pulls/7/merge") || !strings.Contains(asker.asked[0].Reason, "merges are reviewed") {
				t.Errorf("questions %+v, want one about the PUT, naming method, path and rule", asker.asked)
			}
			evs := f.proxy.eventsAfterClose()
			noSecretIn(t, evs)
			var reqEvents []ConnEvent
			for _, ev := range evs {
				if ev.Protocol == ProtoHTTPS {
					reqEvents = append(reqEvents, ev)
				}
				if strings.Contains(fmt.Sprintf("%+v", ev), "body-not-for-the-audit") {
					t.Errorf("an event holds the request body: %+v", ev)
				}
			}
			if len(reqEvents) != len(cases) {
				t.Fatalf("%d request events, want %d: %+v", len(reqEvents), len(cases), reqEvents)
			}
			for i, tc := range cases {
				ev := reqEvents[i]
				if ev.Rule != tc.rule || ev.Allowed != tc.reaches || ev.Status != tc.status || !strings.EqualFold(ev.Method, tc.method) || ev.Path != tc.path || ev.Host != "api.test" {
					t.Errorf("event %d = %+v; want %s %s, rule %q, allowed %v, status %d", i, ev, tc.method, tc.path, tc.rule, tc.reaches, tc.status)
				}
			}
		})
	}
}

func TestRequestRuleAskRefusedOrUnanswerable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		asker Asker
		want  string
	}{
		{"no asker", nil, "no approval channel is configured"},
		{"human says no", &fakeAsker{answer: false}, "a human refused it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := requestRulesFixture(t, tc.asker)
			resp, body := do(t, f.client(f.cordonPool(), true), "POST", "https://"+f.apiHost+"/repos/a/b/issues")
			if resp.StatusCode != 403 || !strings.Contains(body, tc.want) || !strings.Contains(resp.Header.Get("X-Cordon-Denied"), `network.requests "rest"`) {
				t.Errorf("status %d, %q: %s", resp.StatusCode, resp.Header.Get("X-Cordon-Denied"), body)
			}
			if n := len(f.api.requests()); n != 0 {
				t.Errorf("the server got %d requests", n)
			}
		})
	}
}

// TestGovernedHostWithoutCredentialIsRefused: a tunnel to a host whose
// requests cordon cannot read, but which rules govern, is refused.
func TestGovernedHostWithoutCredentialIsRefused(t *testing.T) {
	f := requestRulesFixture(t, nil)
	if _, err := f.client(f.serverCA.pool(), true).Get("https://" + f.otherHost + "/"); err == nil {
		t.Fatal("a tunnel to a governed host that is not intercepted was let through")
	}
	if n := len(f.other.requests()); n != 0 {
		t.Errorf("other.test got %d requests", n)
	}
	var refused bool
	for _, ev := range f.proxy.eventsAfterClose() {
		if ev.Host == "other.test" && !ev.Allowed && ev.Rule == "network.requests" && strings.Contains(ev.Reason, "no credential is injected") {
			refused = true
		}
	}
	if !refused {
		t.Error("no event records the refusal")
	}
}

// TestRequestRulesOnPlainHTTP: the forward proxy reads plain HTTP requests
// and judges them as well.
func TestRequestRulesOnPlainHTTP(t *testing.T) {
	f := requestRulesFixture(t, nil)
	// The api server speaks TLS; a plain request to it still reaches its
	// listener (it answers 400), which is enough to tell sent from refused.
	plain := "plain.test:" + strconv.Itoa(f.api.port)
	send := func(method string) string {
		c, err := net.Dial("tcp", f.proxy.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "%s http://%s/x HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, plain, plain)
		line, _ := bufio.NewReader(c).ReadString('\n')
		return line
	}
	if got := send("DELETE"); !strings.Contains(got, "403") {
		t.Errorf("DELETE over plain HTTP: %q, want 403", got)
	}
	if got := send("GET"); strings.Contains(got, "403") {
		t.Errorf("GET over plain HTTP: %q, want it forwarded", got)
	}
	var denied, forwarded bool
	for _, ev := range f.proxy.eventsAfterClose() {
		if ev.Protocol != ProtoHTTP {
			continue
		}
		switch {
		case ev.Method == "DELETE" && !ev.Allowed && ev.Rule == `network.requests "plain-no-delete"` && ev.Path == "/x":
			denied = true
		case ev.Method == "GET" && ev.Allowed && ev.Addr != "":
			forwarded = true
		}
	}
	if !denied || !forwarded {
		t.Errorf("events do not show the DELETE denied by its rule (%v) and the GET forwarded (%v)", denied, forwarded)
	}
}

// TestRequestRuleAskNamesTheWholePath: the asker is given the request's
// whole path, however long (the event's copy is cut short): an answer
// remembered for one request must not cover another that only shares its
// first bytes.
func TestRequestRuleAskNamesTheWholePath(t *testing.T) {
	asker := &fakeAsker{answer: false}
	f := requestRulesFixture(t, asker)
	path := "/repos/" + strings.Repeat("a", 600) + "/b/pulls/7/merge"
	do(t, f.client(f.cordonPool(), true), "PUT", "https://"+f.apiHost+path)
	if len(asker.asked) != 1 || asker.asked[0].Path != path {
		t.Errorf("the asker was asked %+v; want one question with the whole path", asker.asked)
	}
}
