//go:build linux

package inject

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const gitHTTPBackend = "/usr/lib/git-core/git-http-backend"

// TestGitOverHTTPS: git clone and git push over HTTPS inside the sandbox,
// with the GitHub example of docs/credentials.md as the policy (the token
// from a file, handed over after a yes, format basic), against git's own
// smart-HTTP backend on the host that lets in only Basic credentials with
// the real token. git is given nothing but the placeholder in GH_TOKEN and
// sends no credentials of its own: the proxy adds them. Judged from the
// host: the server received the real token, the commit made inside landed
// in the bare repository (which the sandbox cannot write), the hook git ran
// for the push saw only the placeholder, and the token is in no file and
// nothing printed.
func TestGitOverHTTPS(t *testing.T) {
	need(t, "git", gitHTTPBackend)
	inEveryMode(t, func(t *testing.T, uid int, extra []string) { testGit(t, newLayout(t, uid, extra)) })
}

func testGit(t *testing.T, l *layout) {
	secret := "ghp_" + randomAlnum(36)
	projects := filepath.Join(l.root, "srv")
	bare := seedBareRepo(t, projects, "repo.git")
	ca := newCA(t, "git test CA")
	srv := startServerAt(t, scopedAddr+":0", ca.leaf(t, scopedAddr), gitBackend(projects, secret))
	host := srv.hostPort()

	secretFile := filepath.Join(l.home, ".config", "cordon", "secrets", "github")
	l.write(secretFile, secret+"\n", 0o600)
	l.write(filepath.Join(l.home, ".gitconfig"), "[user]\n\tname = agent\n\temail = agent@example.com\n", 0o644)
	// docs/credentials.md, "Examples", the GitHub entry, with the
	// test's host in place of github.com.
	l.write(l.policy, fmt.Sprintf(`version = 1
[network]
mode = "proxy"
allow = [%[1]q]
extra_ca = %[2]q

[[credentials]]
name = "github"
env = "GH_TOKEN"
from_file = "~/.config/cordon/secrets/github"
commands = [["gh", "**"], ["git", "push", "**"], ["git", "fetch", "**"], ["git", "clone", "**"]]
[credentials.inject]
hosts = [%[1]q]
format = "basic"     # git over HTTPS wants Basic; the API accepts it too
`, host, l.writeCA(ca))+l.approver(), 0o644)
	l.setAnswer("allow", "once")

	url := "https://" + host + "/repo.git"
	l.mustRun("git", "clone", url, "app")
	if b, err := os.ReadFile(filepath.Join(l.ws, "app", "README")); err != nil || string(b) != "seeded on the host\n" {
		t.Fatalf("the clone lacks the repository's README: %q, %v", b, err)
	}
	l.mustRun("sh", "-c", "cd app && echo 'written in the sandbox' > change.txt && git add change.txt && git commit -q -m 'change from the sandbox'")
	// A hook git runs for the push (written from the host: the
	// sandbox cannot write .git/hooks) records what git holds.
	l.write(filepath.Join(l.ws, "app", ".git", "hooks", "pre-push"),
		"#!/bin/sh\nprintf '%s' \"$GH_TOKEN\" > ../git-saw.txt\n", 0o755)
	l.mustRun("git", "-C", "app", "push", "origin", "HEAD:agent-change")

	// The server's side: every request reached the backend with the
	// real token, among them the push's.
	var pushed bool
	for i, h := range srv.headers() {
		req := srv.requests()[i]
		if got := basicPassword(h.Get("Authorization")); got != secret {
			t.Errorf("%s reached the server with credentials %q, not the token", req, h.Get("Authorization"))
		}
		pushed = pushed || strings.HasSuffix(req, "/git-receive-pack")
	}
	if !pushed {
		t.Fatalf("the push never reached the server: %v", srv.requests())
	}
	out, err := hostGit(bare, "log", "--format=%s", "agent-change").Output()
	if err != nil || strings.TrimSpace(string(out)) != "change from the sandbox\nseed" {
		t.Errorf("the bare repository's agent-change branch: %q, %v; want the sandbox's commit on the seed", out, err)
	}

	// The command's side: git held the placeholder only.
	saw, err := os.ReadFile(filepath.Join(l.ws, "git-saw.txt"))
	ph := string(saw)
	switch {
	case err != nil:
		t.Errorf("the pre-push hook left no record: %v", err)
	case ph == secret || len(ph) != len(secret) || !strings.HasPrefix(ph, "ghp_"):
		t.Errorf("git's GH_TOKEN was %q; want a placeholder shaped like the token", ph)
	}
	if b, _ := os.ReadFile(filepath.Join(l.ws, "app", ".git", "config")); strings.Contains(string(b), "@") {
		t.Errorf("the clone's remote holds credentials: %s", b)
	}
	l.checkSecretNowhere(t, secret, secretFile)

	// A human was asked before each hand-over (clone, push), and the
	// proxy recorded the injected requests by the credential's name.
	var asked int
	for _, q := range l.questions() {
		if q.Kind == "credential" && strings.Contains(q.Command, `"github"`) {
			asked++
		}
	}
	if asked != 2 {
		t.Errorf("the approver was asked %d times about the credential, want 2 (clone, push): %+v", asked, l.questions())
	}
	var injectedPush bool
	for _, ev := range l.requestEvents() {
		injectedPush = injectedPush || ev.Protocol == "https" && ev.Credential == "github" && ev.Injected &&
			ev.Path == "/repo.git/git-receive-pack" && ev.Status == http.StatusOK
	}
	if !injectedPush {
		t.Errorf("the audit trail lacks the injected push:\n%s", l.auditLog())
	}
}

// seedBareRepo makes dir/name, a bare repository with one commit on main,
// owned by the user running the tests (who serves it), outside every root
// the sandbox may write.
func seedBareRepo(t *testing.T, dir, name string) string {
	work := filepath.Join(dir, "seed")
	bare := filepath.Join(dir, name)
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(work, "README"), []byte("seeded on the host\n"), 0o644)
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", work},
		{"-C", work, "add", "README"},
		{"-C", work, "commit", "-q", "-m", "seed"},
		{"clone", "-q", "--bare", work, bare},
	} {
		if out, err := hostGit("", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return bare
}

// hostGit is git on the host, outside the sandbox, reading no user's
// configuration.
func hostGit(gitDir string, args ...string) *exec.Cmd {
	if gitDir != "" {
		args = append([]string{"--git-dir", gitDir}, args...)
	}
	cmd := exec.Command("git", append([]string{"-c", "user.name=host", "-c", "user.email=host@example.com"}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1", "LANG=C"}
	return cmd
}

// gitBackend serves the repositories below root over smart HTTP with git's
// own backend, to clients whose Basic credentials carry token as the
// password; everyone else gets 401, as a forge answers.
func gitBackend(root, token string) http.Handler {
	backend := &cgi.Handler{Path: gitHTTPBackend, Env: []string{
		"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent",
		// Authenticated: git-http-backend enables receive-pack (push)
		// only for a REMOTE_USER.
		"REMOTE_USER=x-access-token",
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if basicPassword(r.Header.Get("Authorization")) != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="test forge"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
}

// basicPassword is the password of an Authorization: Basic header, or "".
func basicPassword(h string) string {
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return ""
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return ""
	}
	_, pass, _ := strings.Cut(string(dec), ":")
	return pass
}
