//go:build linux

package inject

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRequestRules: [[network.requests]] rules on the intercepted host
// decide by method and path. Judged by the server's own record: a denied
// DELETE and an asked PUT (no approval channel in a non-interactive run, so
// ask behaves as deny) never reach it, the allowed GET does; curl sees 403
// with X-Cordon-Denied naming the rule; the audit events name the rule,
// the method and the path, and hold neither body nor secret.
func TestRequestRules(t *testing.T) {
	need(t, "curl")
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			f := newFixture(t, u.uid, nil)
			host := f.scoped.hostPort()
			b, _ := os.ReadFile(f.policy)
			rules := `
[[network.requests]]
name = "read"
host = "` + host + `"
methods = ["GET"]
decision = "allow"

[[network.requests]]
name = "merge"
host = "` + host + `"
methods = ["PUT"]
path = "/repos/*/*/pulls/*/merge"
decision = "ask"
reason = "merges are reviewed"

[[network.requests]]
name = "no-delete"
host = "` + host + `"
methods = ["DELETE"]
decision = "deny"
`
			if err := os.WriteFile(f.policy, append(b, rules...), 0o644); err != nil {
				t.Fatal(err)
			}
			// The body comes from a file: the command line is audited.
			body := filepath.Join(f.ws, "body.txt")
			if err := os.WriteFile(body, []byte("secret-body-text"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Lchown(body, u.uid, u.uid)
			curl := func(method, path string) result {
				return f.run("curl", "--noproxy", "", "-sS", "--max-time", "20", "-X", method, "--data-binary", "@body.txt",
					"-o", "/dev/null", "-D", "-", "-w", "status=%{http_code}\n", f.scopedURL+path)
			}
			get := curl("GET", "/repos/acme/app")
			if !strings.Contains(get.stdout, "status=200") {
				t.Fatalf("the allowed GET failed (exit %d): %s %s", get.code, get.stdout, get.stderr)
			}
			del := curl("DELETE", "/repos/acme/app")
			if !strings.Contains(del.stdout, "status=403") || !strings.Contains(del.stdout, `rule=network.requests "no-delete"`) {
				t.Errorf("the DELETE was not refused naming its rule: %s %s", del.stdout, del.stderr)
			}
			put := curl("PUT", "/repos/acme/app/pulls/7/merge")
			if !strings.Contains(put.stdout, "status=403") || !strings.Contains(put.stdout, `network.requests "merge"`) {
				t.Errorf("the asked PUT was not refused without an approval channel: %s %s", put.stdout, put.stderr)
			}
			f.scoped.mu.Lock()
			got := strings.Join(f.scoped.reqs, ",")
			f.scoped.mu.Unlock()
			if got != "GET /repos/acme/app" {
				t.Errorf("the server received %q, want only the allowed GET", got)
			}

			data := f.auditLog()
			if bytes.Contains(data, []byte(f.secret)) || bytes.Contains(data, []byte("secret-body-text")) {
				t.Errorf("ESCAPED: the audit log holds the secret or a request body")
			}
			want := map[string]string{
				"GET /repos/acme/app":               `allow network.requests "read"`,
				"DELETE /repos/acme/app":            `deny network.requests "no-delete"`,
				"PUT /repos/acme/app/pulls/7/merge": `deny network.requests "merge"`,
			}
			for _, ev := range f.requestEvents() {
				if ev.Protocol != "https" {
					continue
				}
				k := ev.Method + " " + ev.Path
				if w, ok := want[k]; ok && w == ev.Decision+" "+ev.Rule && ev.Status != 0 {
					delete(want, k)
				}
			}
			if len(want) != 0 {
				t.Errorf("the audit log lacks events for %v:\n%s", want, data)
			}
		})
	}
}

// TestRequestRuleAsks: a request rule that says ask holds the request
// while the policy's approver program, outside the sandbox, is asked about
// that method and path. Judged by the server's own record: the PUT it
// allowed arrived, the PUT it refused did not; an allow for this session
// lets the same request through again without asking, and another request
// the rule asks about is asked about again, not let through by that grant.
func TestRequestRuleAsks(t *testing.T) {
	need(t, "curl")
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			f := newFixture(t, u.uid, nil)
			b, _ := os.ReadFile(f.policy)
			f.write(f.policy, string(b)+`
[[network.requests]]
name = "merge"
host = "`+f.scoped.hostPort()+`"
methods = ["PUT"]
path = "/repos/*/*/pulls/*/merge"
decision = "ask"
reason = "merges are reviewed"
`+f.approver(), 0o644)
			put := func(pr int) string {
				r := f.run("curl", "--noproxy", "", "-sS", "--max-time", "20", "-X", "PUT", "-o", "/dev/null",
					"-w", "%{http_code}", fmt.Sprintf("%s/repos/acme/app/pulls/%d/merge", f.scopedURL, pr))
				return r.stdout
			}

			f.setAnswer("allow", "once")
			if got := put(7); got != "200" {
				t.Errorf("the PUT allowed when asked: status %s", got)
			}
			f.setAnswer("deny", "")
			if got := put(8); got != "403" {
				t.Errorf("the PUT refused when asked: status %s", got)
			}
			f.env = append(f.env, "CORDON_SESSION=inject-test-session")
			f.setAnswer("allow", "session")
			if got := put(9); got != "200" {
				t.Errorf("the PUT allowed for the session: status %s", got)
			}
			f.setAnswer("deny", "")
			if got := put(9); got != "200" {
				t.Errorf("the same PUT again in the session: status %s", got)
			}
			if got := put(10); got != "403" {
				t.Errorf("ESCAPED: another PUT the rule asks about, refused when asked, got status %s: the session grant for pull 9 covered it", got)
			}

			want := "PUT /repos/acme/app/pulls/7/merge,PUT /repos/acme/app/pulls/9/merge,PUT /repos/acme/app/pulls/9/merge"
			if got := strings.Join(f.scoped.requests(), ","); got != want {
				t.Errorf("the server received %q, want %q", got, want)
			}
			qs := f.questions()
			if len(qs) != 4 {
				t.Errorf("the approver was asked %d times, want 4 (pulls 7, 8, 9, 10): %+v", len(qs), qs)
			}
			for i, pr := range []int{7, 8, 9, 10} {
				want := question{Kind: "network", Command: fmt.Sprintf("PUT /repos/acme/app/pulls/%d/merge on %s", pr, f.scoped.hostPort()),
					Category: "network-request", Rule: `network.requests "merge"`}
				if i >= len(qs) {
					break
				}
				if q := qs[i]; q.Kind != want.Kind || q.Command != want.Command || q.Category != want.Category || q.Rule != want.Rule ||
					!strings.Contains(q.Reason, "merges are reviewed") {
					t.Errorf("question %d is %+v; want %+v, with the rule's reason", i, q, want)
				}
			}
			var approved bool
			for _, ev := range f.requestEvents() {
				approved = approved || ev.Protocol == "https" && ev.Path == "/repos/acme/app/pulls/7/merge" &&
					ev.Decision == "allow" && ev.Rule == `network.requests "merge", approved when asked` && ev.Status == 200
			}
			if !approved {
				t.Errorf("the audit trail lacks the approved request:\n%s", f.auditLog())
			}
		})
	}
}
