package trackedsecrets

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	policyDeny  = []string{"~/.ssh", "/etc/shadow", ".env", ".env.*"}
	policyAllow = []string{".env.example", ".env.sample", ".env.template", ".env.dist"}
)

func needGit(t testing.TB) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the test repositories use POSIX shell scripts")
	}
	p, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	return p
}

// gitEnv is the environment the tests set repositories up with: nothing of
// the user's git config, a fixed identity and date.
func gitEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.DevNull,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
		"LC_ALL=C",
	}
}

func run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func write(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func newRepo(t testing.TB) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run(t, dir, "init", "-q", "-b", "main")
	return dir
}

// secretRepo: .env committed and then deleted; .env.example (allowed);
// app/.env.local tracked; config/.env.prod committed and then untracked;
// a template renamed to .env.staging; README.md.
func secretRepo(t testing.TB) string {
	dir := newRepo(t)
	write(t, dir, ".env", "TOKEN=one\n")
	write(t, dir, ".env.example", "TOKEN=\n")
	write(t, dir, "app/.env.local", "TOKEN=two\n")
	write(t, dir, "config/.env.prod", "TOKEN=three\n")
	write(t, dir, "template.txt", "TOKEN=four\n")
	write(t, dir, "README.md", "hello\n")
	run(t, dir, "add", "-A")
	run(t, dir, "commit", "-q", "-m", "first")
	run(t, dir, "rm", "-q", ".env")
	run(t, dir, "rm", "-q", "--cached", "config/.env.prod")
	run(t, dir, "mv", "template.txt", ".env.staging")
	run(t, dir, "commit", "-q", "-m", "second")
	return dir
}

func TestFindTrackedAndHistory(t *testing.T) {
	needGit(t)
	dir := secretRepo(t)
	rep, err := Find(context.Background(), dir, Options{Deny: policyDeny, Allow: policyAllow})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{Path: ".env.staging", Tracked: true, InHistory: true}, // added by the rename
		{Path: "app/.env.local", Tracked: true, InHistory: true},
		{Path: ".env", InHistory: true},
		{Path: "config/.env.prod", InHistory: true},
	}
	if !reflect.DeepEqual(rep.Findings, want) || rep.Incomplete {
		t.Fatalf("Find = %+v (incomplete %v), want %+v", rep.Findings, rep.Incomplete, want)
	}
	wantMsg := "secrets tracked by git are readable through git objects: .env.staging (tracked), app/.env.local (tracked), .env (in history), config/.env.prod (in history); remove them from history (git filter-repo) or rotate them"
	if got := rep.Message(); got != wantMsg {
		t.Errorf("Message() =\n%s\nwant\n%s", got, wantMsg)
	}
	// The file is masked in the sandbox, but git gives its contents.
	if out := run(t, dir, "show", "HEAD~1:.env"); out != "TOKEN=one\n" {
		t.Fatalf("git show = %q: the fixture does not hold the secret in history", out)
	}
}

func TestFindAllowAndScope(t *testing.T) {
	needGit(t)
	dir := secretRepo(t)
	// An absolute allow_read entry exempts that file; a subdirectory sees
	// only its own paths, relative to it.
	rep, err := Find(context.Background(), dir, Options{Deny: policyDeny,
		Allow: append([]string{filepath.Join(dir, "config", ".env.prod")}, policyAllow...)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Path == "config/.env.prod" {
			t.Errorf("config/.env.prod is allowed by an absolute allow_read entry but was reported")
		}
	}
	rep, err = Find(context.Background(), filepath.Join(dir, "app"), Options{Deny: policyDeny, Allow: policyAllow})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Finding{{Path: ".env.local", Tracked: true, InHistory: true}}; !reflect.DeepEqual(rep.Findings, want) {
		t.Errorf("Find(app) = %+v, want %+v", rep.Findings, want)
	}
	// Patterns with a slash match the path below the scanned directory.
	rep, err = Find(context.Background(), dir, Options{Deny: []string{"config/*"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Finding{{Path: "config/.env.prod", InHistory: true}}; !reflect.DeepEqual(rep.Findings, want) {
		t.Errorf("Find(config/*) = %+v, want %+v", rep.Findings, want)
	}
}

func TestNothingWithoutRepoOrGit(t *testing.T) {
	needGit(t)
	plain, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	write(t, plain, ".env", "TOKEN=x\n")
	rep, err := Find(context.Background(), plain, Options{Deny: policyDeny})
	if err != nil || len(rep.Findings) != 0 {
		t.Errorf("not a repository: Find = %+v, %v; want nothing", rep, err)
	}
	dir := secretRepo(t)
	rep, err = Find(context.Background(), dir, Options{Deny: policyDeny, Git: filepath.Join(plain, "no-such-git")})
	if err != nil || len(rep.Findings) != 0 {
		t.Errorf("no git: Find = %+v, %v; want nothing", rep, err)
	}
	t.Setenv("PATH", plain)
	rep, err = Find(context.Background(), dir, Options{Deny: policyDeny})
	if err != nil || len(rep.Findings) != 0 {
		t.Errorf("git not on PATH: Find = %+v, %v; want nothing", rep, err)
	}
	// No relative deny pattern: nothing to look for.
	t.Setenv("PATH", os.Getenv("PATH"))
	rep, err = Find(context.Background(), dir, Options{Deny: []string{"~/.ssh"}})
	if err != nil || len(rep.Findings) != 0 {
		t.Errorf("no relative pattern: Find = %+v, %v; want nothing", rep, err)
	}
}

// trap writes an executable script that records its run in marker.
func trap(t *testing.T, dir, name, marker string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	write(t, dir, name, "#!/bin/sh\necho \"$0 $*\" >> '"+marker+"'\nexit 1\n")
	return p
}

func markerText(marker string) string {
	b, _ := os.ReadFile(marker)
	return string(b)
}

// signedCommit adds a commit that carries a (fake) signature, so that git
// log with log.showSignature runs gpg.program for it.
func signedCommit(t *testing.T, dir string) {
	t.Helper()
	tree := strings.TrimSpace(run(t, dir, "write-tree"))
	head := strings.TrimSpace(run(t, dir, "rev-parse", "HEAD"))
	body := fmt.Sprintf("tree %s\nparent %s\nauthor t <t@example.com> 1767225600 +0000\ncommitter t <t@example.com> 1767225600 +0000\n"+
		"gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n", tree, head)
	cmd := exec.Command("git", "hash-object", "-t", "commit", "-w", "--stdin")
	cmd.Dir = dir
	cmd.Env = gitEnv()
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	run(t, dir, "update-ref", "refs/heads/main", strings.TrimSpace(string(out)))
}

// TestRepositoryConfigRunsNothing: a repository whose config names programs
// git would run for ls-files and log. Plain git runs them (the traps work);
// Find runs none of them and still finds the secret.
func TestRepositoryConfigRunsNothing(t *testing.T) {
	needGit(t)
	dir := secretRepo(t)
	signedCommit(t, dir)
	tools := t.TempDir()
	marker := filepath.Join(tools, "ran")
	fsmonitor := trap(t, tools, "fsmonitor", marker)
	pager := trap(t, tools, "pager", marker)
	gpg := trap(t, tools, "gpg", marker)
	ext := trap(t, tools, "extdiff", marker)
	hooks := filepath.Join(tools, "hooks")
	for _, h := range []string{"post-index-change", "post-checkout", "reference-transaction"} {
		trap(t, hooks, h, marker)
	}
	run(t, dir, "config", "core.fsmonitor", fsmonitor)
	run(t, dir, "config", "core.pager", pager)
	run(t, dir, "config", "pager.log", pager)
	run(t, dir, "config", "log.showSignature", "true")
	run(t, dir, "config", "gpg.program", gpg)
	run(t, dir, "config", "diff.external", ext)
	run(t, dir, "config", "core.hooksPath", hooks)

	// The traps work: plain git runs the fsmonitor hook for ls-files and
	// gpg for log.
	for _, args := range [][]string{{"ls-files"}, {"log", "-1", "--format=%H"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = gitEnv()
		cmd.Run()
	}
	got := markerText(marker)
	if !strings.Contains(got, fsmonitor) || !strings.Contains(got, gpg) {
		t.Fatalf("the traps did not fire for plain git (marker: %q); the test proves nothing", got)
	}
	os.Remove(marker)

	rep, err := Find(context.Background(), dir, Options{Deny: policyDeny, Allow: policyAllow})
	if err != nil {
		t.Fatal(err)
	}
	if got := markerText(marker); got != "" {
		t.Errorf("Find ran programs named by the repository's config:\n%s", got)
	}
	if len(rep.Findings) != 4 {
		t.Errorf("Find = %+v, want the 4 secrets", rep.Findings)
	}
}

// TestGitInsideWorkspaceIsNotRun: a file named git in a PATH entry inside
// the scanned directory is skipped.
func TestGitInsideWorkspaceIsNotRun(t *testing.T) {
	real := needGit(t)
	dir := secretRepo(t)
	marker := filepath.Join(t.TempDir(), "ran")
	trap(t, filepath.Join(dir, "node_modules", ".bin"), "git", marker)
	t.Setenv("PATH", filepath.Join(dir, "node_modules", ".bin")+string(os.PathListSeparator)+"bin"+string(os.PathListSeparator)+filepath.Dir(real))
	// A link to it from a PATH entry outside is skipped too.
	linkDir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "node_modules", ".bin", "git"), filepath.Join(linkDir, "git")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", linkDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	rep, err := Find(context.Background(), dir, Options{Deny: policyDeny, Allow: policyAllow})
	if err != nil {
		t.Fatal(err)
	}
	if got := markerText(marker); got != "" {
		t.Errorf("Find ran the workspace's git: %s", got)
	}
	if len(rep.Findings) != 4 {
		t.Errorf("Find = %+v, want the 4 secrets (found with the real git)", rep.Findings)
	}
}

func TestBudgets(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	for _, name := range []string{".env.a", ".env.b", ".env.c"} {
		write(t, dir, name, "TOKEN\n")
		run(t, dir, "add", name)
		run(t, dir, "commit", "-q", "-m", name)
		run(t, dir, "rm", "-q", name)
		run(t, dir, "commit", "-q", "-m", "rm "+name)
	}
	rep, err := Find(context.Background(), dir, Options{Deny: policyDeny, MaxCommits: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Incomplete || len(rep.Findings) != 1 {
		t.Errorf("MaxCommits 1: Find = %+v, want one commit's secret and Incomplete", rep)
	}
	if !strings.HasSuffix(rep.Message(), "(the history scan stopped at its budget; there may be more)") {
		t.Errorf("Message() does not say the scan stopped early: %s", rep.Message())
	}
	rep, err = Find(context.Background(), dir, Options{Deny: policyDeny})
	if err != nil || rep.Incomplete || len(rep.Findings) != 3 {
		t.Errorf("default budgets: Find = %+v, %v; want 3 findings, complete", rep, err)
	}
	rep, err = Find(context.Background(), dir, Options{Deny: policyDeny, MaxCommits: -1})
	if err != nil || len(rep.Findings) != 0 {
		t.Errorf("history skipped: Find = %+v, %v; want nothing (nothing is tracked now)", rep, err)
	}
}

// TestTimeoutStopsHistory: a git whose log never ends. Find stops it at the
// deadline, keeps what the index gave and says the scan is incomplete.
func TestTimeoutStopsHistory(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	fake := filepath.Join(t.TempDir(), "git")
	write(t, filepath.Dir(fake), "git", `#!/bin/sh
for a; do
  case "$a" in
    rev-parse) echo true; exit 0;;
    ls-files) printf '.env\0README\0'; exit 0;;
    log) exec sleep 60;;
  esac
done
exit 2
`)
	rep, err := Find(context.Background(), dir, Options{Deny: policyDeny, Git: fake, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Finding{{Path: ".env", Tracked: true}}; !reflect.DeepEqual(rep.Findings, want) || !rep.Incomplete {
		t.Errorf("Find = %+v, want .env tracked and Incomplete", rep)
	}
}

func TestMessageShortensLongLists(t *testing.T) {
	var r Report
	for i := range 7 {
		r.Findings = append(r.Findings, Finding{Path: fmt.Sprintf("s%d/.env", i), InHistory: true})
	}
	msg := r.Message()
	if !strings.Contains(msg, "s4/.env (in history), and 2 more;") || strings.Contains(msg, "s5/.env") {
		t.Errorf("Message() = %s", msg)
	}
	if (Report{}).Message() != "" {
		t.Errorf("empty report has a message")
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, rel string
		want         bool
	}{
		{".env", ".env", true},
		{".env", "a/b/.env", true},
		{".env.*", "a/.env.local", true},
		{".env.*", ".env", false},
		{"*.pem", "certs/x.pem", true},
		{"config/secrets.yml", "config/secrets.yml", true},
		{"config/secrets.yml", "x/config/secrets.yml", false},
		{"**/id_rsa", "a/b/id_rsa", true},
		{"./config/*", "config/a", true},
	} {
		if got := Matches(c.pattern, c.rel); got != c.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", c.pattern, c.rel, got, c.want)
		}
	}
}

// BenchmarkFindLarge measures a repository with many tracked files and a
// long history: go test -bench . -benchtime 5x ./internal/trackedsecrets/
func BenchmarkFindLarge(b *testing.B) {
	needGit(b)
	dir := newRepo(b)
	// fast-import: 2,000 commits adding 50 files each (100,000 files), one
	// .env among them in the middle of history, deleted at the end.
	var in bytes.Buffer
	mark := 0
	for c := range 2000 {
		fmt.Fprintf(&in, "commit refs/heads/main\ncommitter t <t@example.com> %d +0000\ndata 1\nx\n", 1767225600+c)
		for f := range 50 {
			mark++
			name := fmt.Sprintf("d%d/f%d.txt", c%97, mark)
			if c == 1000 && f == 0 {
				name = "svc/.env"
			}
			fmt.Fprintf(&in, "M 644 inline %s\ndata 2\nx\n", name)
		}
		if c == 1999 {
			fmt.Fprintf(&in, "D svc/.env\n")
		}
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Env = gitEnv()
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v\n%s", err, out)
	}
	run(b, dir, "reset", "-q", "--hard", "main")
	b.ResetTimer()
	for b.Loop() {
		rep, err := Find(context.Background(), dir, Options{Deny: policyDeny, Allow: policyAllow})
		if err != nil || len(rep.Findings) != 1 || rep.Incomplete {
			b.Fatalf("Find = %+v, %v", rep, err)
		}
	}
}

// BenchmarkFindRepo measures an existing repository:
// TRACKEDSECRETS_BENCH_REPO=/path/to/repo go test -bench FindRepo ./internal/trackedsecrets/
func BenchmarkFindRepo(b *testing.B) {
	needGit(b)
	dir := os.Getenv("TRACKEDSECRETS_BENCH_REPO")
	if dir == "" {
		b.Skip("TRACKEDSECRETS_BENCH_REPO is not set")
	}
	var rep Report
	for b.Loop() {
		var err error
		if rep, err = Find(context.Background(), dir, Options{Deny: policyDeny, Allow: policyAllow}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d findings, incomplete %v", len(rep.Findings), rep.Incomplete)
}
