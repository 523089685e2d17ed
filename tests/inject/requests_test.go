//go:build linux

package inject

import (
	"bytes"
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
