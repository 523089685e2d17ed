//go:build linux

// Package inject holds the end-to-end tests of credentials that cordon's
// proxy injects: `cordon run --policy P -- curl https://...` against HTTPS
// servers on the host with a test CA of their own, judged from the host
// side: what the servers received, what is in the workspace, the audit log
// and the command's output. They run as root and as uid 65534, with
// namespaces and in the Landlock-only mode.
package inject

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

var (
	cordonBin string
	probeBin  string
)

func TestMain(m *testing.M) {
	if os.Getuid() != 0 {
		if os.Getenv(testbin.RequireEnv) == "1" {
			fmt.Fprintln(os.Stderr, "inject tests: they need root (to test as root and as uid 65534), and nothing may be skipped here")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "inject tests: skipped, they need root (to test as root and as uid 65534)")
		os.Exit(0)
	}
	testbin.Main(m, map[string]*string{"cordon": &cordonBin, "probe": &probeBin},
		map[string]string{"cordon": testbin.Cordon, "probe": "./probe"})
}

// fixture is one host layout: a home with a workspace, a policy file
// outside it that injects the secret into requests to the scoped server
// (and to the rogue one, whose certificate no trusted CA signed), and a
// server no credential names.
type fixture struct {
	*layout
	secret               string
	scoped, other, rogue *server
	scopedURL, otherURL  string
	rogueURL             string
}

func newFixture(t *testing.T, uid int, extra []string) *fixture {
	f := &fixture{layout: newLayout(t, uid, extra), secret: "ghp_" + randomAlnum(36)}
	f.env = []string{"CORDON_TEST_SECRET=" + f.secret}
	ca, rogueCA := newCA(t, "inject test CA"), newCA(t, "rogue CA")
	f.scoped, f.other, f.rogue = startServer(t, ca.leaf(t)), startServer(t, ca.leaf(t)), startServer(t, rogueCA.leaf(t))
	url := func(s *server) string { return "https://" + s.hostPort() }
	f.scopedURL, f.otherURL, f.rogueURL = url(f.scoped), url(f.other), url(f.rogue)
	caFile := f.writeCA(ca)
	hp := (*server).hostPort
	f.write(f.policy, fmt.Sprintf(`version = 1
[network]
mode = "proxy"
allow = [%q, %q, %q]
extra_ca = %q

[[credentials]]
name = "github"
env = "GITHUB_TOKEN"
from_env = "CORDON_TEST_SECRET"
commands = [["curl", "**"], ["probe", "**"]]
decision = "allow"
[credentials.inject]
hosts = [%q, %q]
`, hp(f.scoped), hp(f.other), hp(f.rogue), caFile, hp(f.scoped), hp(f.rogue)), 0o644)
	return f
}

// TestInjectedSecretStaysOutside: curl in the sandbox reaches the scoped
// host with the real secret in its Authorization header, added by the proxy;
// the command only ever holds a placeholder, which reaches another host as
// the worthless placeholder it is, is refused in any other header of the
// scoped host, and the secret is in no file of the workspace, no audit line
// and nothing printed.
func TestInjectedSecretStaysOutside(t *testing.T) {
	need(t, "curl")
	inEveryMode(t, func(t *testing.T, uid int, extra []string) { newFixture(t, uid, extra).check(t) })
}

func (f *fixture) check(t *testing.T) {
	// 1. curl, given nothing: the proxy adds the header. --noproxy ''
	// because 127.0.0.1 is in NO_PROXY (loopback inside the sandbox).
	r := f.run("curl", "--noproxy", "", "-sS", "--fail", "--max-time", "20", f.scopedURL+"/api/user")
	if r.code != 0 {
		t.Fatalf("curl to the scoped host failed (exit %d): %s %s", r.code, r.stdout, r.stderr)
	}
	got := f.scoped.received("/api/user")
	if len(got) != 1 || got[0].Get("Authorization") != "Bearer "+f.secret {
		t.Fatalf("the scoped host did not receive the secret: %v", got)
	}
	if !strings.Contains(r.stdout, "over HTTP/2.0") {
		t.Logf("note: the proxy spoke %q to the scoped host", r.stdout)
	}

	// 2. What the command holds: a placeholder of the secret's kind.
	envFile := filepath.Join(f.ws, "env.txt")
	r = f.run(probeBin, "dump", envFile)
	ph := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "GITHUB_TOKEN="); ok && v != "" {
			ph = v
		}
	}
	switch {
	case r.code != 0:
		t.Fatalf("probe dump: exit %d: %s", r.code, r.stderr)
	case ph == "" || ph == f.secret || len(ph) != len(f.secret) || !strings.HasPrefix(ph, "ghp_"):
		t.Fatalf("the command's GITHUB_TOKEN is %q; want a placeholder like the secret, not it", ph)
	}
	if b, _ := os.ReadFile(envFile); !strings.Contains(string(b), "GITHUB_TOKEN=ghp_") {
		t.Fatalf("probe wrote no environment: %q", b)
	}

	// 3. The placeholder sent to a host no credential names arrives as the
	// placeholder: the proxy never had a reason to put the secret there.
	r = f.run(probeBin, "send", f.otherURL+"/leak", "Authorization=Bearer $TOKEN", "X-Token=$TOKEN")
	leaks := f.other.received("/leak")
	if r.code != 0 || len(leaks) != 1 {
		t.Fatalf("probe send to the other host: exit %d, %d requests: %s %s", r.code, len(leaks), r.stdout, r.stderr)
	}
	if a := leaks[0].Get("Authorization"); !strings.HasPrefix(a, "Bearer ghp_") || strings.Contains(fmt.Sprint(leaks[0]), f.secret) {
		t.Errorf("the other host got %v", leaks[0])
	}

	// 4. The placeholder in another header of the scoped host is refused.
	r = f.run(probeBin, "send", f.scopedURL+"/wrong-header", "X-Token=$TOKEN")
	if n := len(f.scoped.received("/wrong-header")); n != 0 || !strings.Contains(r.stdout, "status 403") {
		t.Errorf("the placeholder in X-Token: the host got %d requests; probe said %s %s", n, r.stdout, r.stderr)
	}

	// 5. A scoped host whose certificate no trusted CA signed is refused
	// before anything is sent to it.
	r = f.run("curl", "--noproxy", "", "-sS", "--max-time", "20", f.rogueURL+"/rogue")
	if r.code == 0 || f.rogue.all() != "[] []" {
		t.Errorf("the host with an untrusted certificate was reached (exit %d): %s", r.code, f.rogue.all())
	}

	// 6. The CA key cannot be read inside.
	key := filepath.Join(f.home, ".local", "state", "cordon", "ca", "ca-key.pem")
	if _, err := os.Stat(key); err != nil {
		t.Fatalf("no CA key after the runs: %v", err)
	}
	if r = f.run(probeBin, "read", key); r.code == 0 || strings.Contains(r.stdout, "read ") {
		t.Errorf("ESCAPED: the CA key was read inside the sandbox: %s", r.stdout)
	}

	// From the host side: the secret is nowhere the command or the agent
	// can see it (the policy reads it from cordon's own environment).
	f.checkSecretNowhere(t, f.secret)
	f.checkAudit(t)
	f.checkBundle(t)
}

// checkAudit reads the audit log: the injected requests are recorded by
// credential name (checkSecretNowhere saw that no line holds the secret).
func (f *fixture) checkAudit(t *testing.T) {
	var injected, refused, certFailure bool
	for _, ev := range f.requestEvents() {
		switch {
		case ev.Protocol == "https" && ev.Credential == "github" && ev.Injected && ev.Path == "/api/user":
			injected = true
		case ev.Protocol == "https" && ev.Credential == "github" && ev.Decision == "deny" && strings.Contains(ev.Error, "placeholder"):
			refused = true
		case strings.Contains(ev.Error, "failed verification"):
			certFailure = true
		}
	}
	if !injected || !refused || !certFailure {
		t.Errorf("the audit log lacks the injected request (%v), the refused placeholder (%v) or the certificate failure (%v):\n%s",
			injected, refused, certFailure, f.auditLog())
	}
}

// checkBundle: the bundle the sandbox was given holds certificates only.
func (f *fixture) checkBundle(t *testing.T) {
	dir := filepath.Join(f.home, ".cache", "cordon", "ca")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no CA bundle in %s: %v", dir, err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Errorf("the sandbox's bundle %s holds a private key", e.Name())
		}
	}
}

// TestWithoutInjectTheHostIsTunnelled: the same policy without the inject
// table hands the secret over in the variable, as before, and the proxy
// does not intercept: curl, trusting only the system's roots and the test
// CA it is given, sees the server's own certificate.
func TestWithoutInjectTheHostIsTunnelled(t *testing.T) {
	need(t, "curl")
	f := newFixture(t, 0, nil)
	b, _ := os.ReadFile(f.policy)
	plain := strings.Split(string(b), "[credentials.inject]")[0]
	os.WriteFile(f.policy, []byte(plain), 0o644)
	r := f.run("curl", "--noproxy", "", "-sS", "--fail", "--max-time", "20", "--cacert", filepath.Join(f.root, "test-ca.pem"),
		"-w", "%{certs}", "-o", "/dev/null", f.scopedURL+"/plain")
	if r.code != 0 {
		t.Fatalf("curl: exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "cordon local CA") {
		t.Errorf("a host no inject table names was intercepted: %s", r.stdout)
	}
	if got := f.scoped.received("/plain"); len(got) != 1 || got[0].Get("Authorization") != "" {
		t.Errorf("the server got %v", got)
	}
}
