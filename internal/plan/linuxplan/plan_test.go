package linuxplan

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
	"github.com/cordon-sandbox/cordon/policy"
)

// fixture is a home with a workspace, on the real filesystem.
type fixture struct {
	t    *testing.T
	home string
	ws   string
}

func newFixture(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, home: filepath.Join(root, "home")}
	f.ws = filepath.Join(f.home, "proj")
	os.MkdirAll(f.ws, 0o755)
	for name, content := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if strings.HasSuffix(name, "/") {
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) plan(mod func(*policy.Options, *Input)) (*Plan, error) {
	f.t.Helper()
	o := policy.Options{Workspace: f.ws, Home: f.home, NoUserFile: true}
	in := Input{Workspace: f.ws, Home: f.home, Argv: []string{"true"}, Env: []string{"PATH=/usr/bin"}}
	if mod != nil {
		mod(&o, &in)
	}
	p, err := policy.Load(o)
	if err != nil {
		f.t.Fatal(err)
	}
	in.Policy = p
	plan, _, err := Make(in)
	return plan, err
}

// protectedOf returns the paths bound read-only and those reserved (absent
// and uncreatable).
func protectedOf(p *Plan) []string {
	return append(mountsOf(p, BindRO), p.Guard.Reserved...)
}

func mountsOf(p *Plan, kind MountKind) []string {
	var out []string
	for _, m := range p.Mounts {
		if m.Kind == kind {
			out = append(out, m.Target)
		}
	}
	return out
}

func TestWorkspaceWriteLayout(t *testing.T) {
	f := newFixture(t, map[string]string{
		"home/proj/.git/config":    "[core]\n",
		"home/proj/.git/hooks/":    "",
		"home/proj/.env":           "SECRET=1",
		"home/proj/.env.example":   "SECRET=",
		"home/proj/app/.env.local": "SECRET=2",
		"home/.ssh/id_ed25519":     "key",
		"home/.aws/credentials":    "key",
		"home/proj/src/main.go":    "package main",
	})
	cache := filepath.Join(f.home, ".cache", "cordon", "x")
	os.MkdirAll(cache, 0o700)
	plan, err := f.plan(func(_ *policy.Options, in *Input) { in.CacheDir = cache })
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Namespaces || plan.FullAccess {
		t.Fatalf("plan = %+v", plan)
	}
	if got := mountsOf(plan, BindRW); !slices.Equal(got, []string{f.ws, cache}) {
		t.Errorf("writable binds = %v", got)
	}
	ro := protectedOf(plan)
	for _, want := range []string{".git/config", ".git/hooks", ".vscode", ".mcp.json", ".cordon"} {
		if !slices.Contains(ro, filepath.Join(f.ws, want)) {
			t.Errorf("%s is neither bound read-only nor reserved: %v", want, ro)
		}
	}
	// .git is pinned so it cannot be renamed away from under its children.
	if pins := mountsOf(plan, Pin); !slices.Contains(pins, filepath.Join(f.ws, ".git")) {
		t.Errorf("pins = %v, want .git", pins)
	}
	masked := append(mountsOf(plan, MaskFile), mountsOf(plan, MaskDir)...)
	for _, want := range []string{filepath.Join(f.ws, ".env"), filepath.Join(f.ws, "app/.env.local"), filepath.Join(f.home, ".ssh"), filepath.Join(f.home, ".aws")} {
		if !slices.Contains(masked, want) {
			t.Errorf("%s is not masked; masked: %v", want, masked)
		}
	}
	if slices.Contains(masked, filepath.Join(f.ws, ".env.example")) {
		t.Errorf(".env.example is an allow_read exception but was masked")
	}
	// Order: writable roots, then pins, then protected, then masks.
	last := map[MountKind]int{}
	for i, m := range plan.Mounts {
		last[m.Kind] = i
	}
	first := func(k MountKind) int {
		for i, m := range plan.Mounts {
			if m.Kind == k {
				return i
			}
		}
		return -1
	}
	if !(last[BindRW] < first(Pin) && last[Pin] < first(BindRO) && last[BindRO] < first(MaskFile)) {
		t.Errorf("mount order is wrong: %+v", plan.Mounts)
	}
	// The cache is a writable root but holds no project: nothing protected
	// there.
	for _, p := range ro {
		if strings.HasPrefix(p, cache) {
			t.Errorf("protected path %s inside cordon's own cache", p)
		}
	}
	for _, kv := range []string{"GOCACHE=" + cache + "/go-build", "XDG_CACHE_HOME=" + cache + "/xdg", "TMPDIR=/tmp", "CORDON_SANDBOX=1"} {
		if !slices.Contains(plan.Env, kv) {
			t.Errorf("env lacks %s: %v", kv, plan.Env)
		}
	}
	if !plan.Landlock.Enabled || !slices.Equal(plan.Landlock.ReadExec, []string{"/"}) || !slices.Contains(plan.Landlock.Write, f.ws) {
		t.Errorf("landlock = %+v", plan.Landlock)
	}
}

func TestAbsentProtectedPathsAreReserved(t *testing.T) {
	f := newFixture(t, map[string]string{"home/proj/sub/": ""})
	plan, err := f.plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	reserved := map[string]bool{}
	for _, r := range plan.Guard.Reserved {
		reserved[strings.TrimPrefix(r, f.ws+"/")] = true
	}
	for _, name := range []string{".vscode", ".claude", ".mcp.json", ".cordon"} {
		if !reserved[name] {
			t.Errorf("%s is not reserved; reserved: %v", name, plan.Guard.Reserved)
		}
	}
	// Without .git, a repository the command makes is its own (checked
	// when the run ends): neither .git nor anything below it is reserved.
	for r := range reserved {
		if r == ".git" || strings.HasPrefix(r, ".git/") {
			t.Errorf("%s reserved although .git is absent", r)
		}
	}
	// Nothing is created on the host, nothing is mounted for them, and
	// GOFLAGS is the caller's.
	for _, m := range plan.Mounts {
		if reserved[strings.TrimPrefix(m.Target, f.ws+"/")] {
			t.Errorf("mount on a reserved name: %+v", m)
		}
	}
	if _, err := os.Lstat(filepath.Join(f.ws, ".vscode")); err == nil {
		t.Errorf("planning created .vscode")
	}
	if !plan.Seccomp.SuperviseFiles {
		t.Errorf("names are not supervised, so reserved names would be creatable")
	}
	for _, kv := range plan.Env {
		if strings.HasPrefix(kv, "GOFLAGS=") {
			t.Errorf("GOFLAGS set without a placeholder .git: %s", kv)
		}
	}
}

func TestReservedNamesInsideAnExistingGitdirArePinned(t *testing.T) {
	f := newFixture(t, map[string]string{"home/proj/.git/HEAD": "ref: refs/heads/main\n"})
	plan, err := f.plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	git := filepath.Join(f.ws, ".git")
	for _, want := range []string{"hooks", "config"} {
		if !slices.Contains(plan.Guard.Reserved, filepath.Join(git, want)) {
			t.Errorf(".git/%s not reserved: %v", want, plan.Guard.Reserved)
		}
	}
	if !slices.Contains(plan.Guard.Pinned, git) || !slices.Contains(mountsOf(plan, Pin), git) {
		t.Errorf(".git is not pinned (guard %v, mounts %v): it could be renamed away and recreated without the reservations", plan.Guard.Pinned, mountsOf(plan, Pin))
	}
}

func TestGitFilePointsElsewhere(t *testing.T) {
	f := newFixture(t, map[string]string{
		"home/repo/.git/worktrees/wt/commondir": "../..\n",
		"home/repo/.git/config":                 "[core]\n",
		"home/repo/.git/hooks/":                 "",
	})
	os.WriteFile(filepath.Join(f.ws, ".git"), []byte("gitdir: "+filepath.Join(f.home, "repo/.git/worktrees/wt")+"\n"), 0o644)
	extra := filepath.Join(f.home, "repo")
	plan, err := f.plan(func(o *policy.Options, _ *Input) {
		o.NoUserFile = false
		o.UserFile = filepath.Join(f.home, "user.toml")
		os.WriteFile(o.UserFile, []byte("version = 1\n[filesystem]\nwritable = [\""+extra+"\"]\n"), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	ro := protectedOf(plan)
	for _, want := range []string{"repo/.git/config", "repo/.git/hooks", "repo/.git/worktrees/wt/config"} {
		found := false
		for _, p := range ro {
			if p == filepath.Join(f.home, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is not protected; read-only: %v", want, ro)
		}
	}
	if !slices.Contains(ro, filepath.Join(f.ws, ".git")) {
		t.Errorf("the .git file itself is not protected: %v", ro)
	}
}

// The hooks directory a repository's config names (core.hooksPath), and
// the config files it includes, are protected like .git/hooks and
// .git/config, whether the config names them itself, through an include, or
// in the user's ~/.gitconfig.
func TestGitConfigNamesAreProtected(t *testing.T) {
	f := newFixture(t, map[string]string{
		"home/proj/.git/config":            "[core]\n\thooksPath = .githooks\n[include]\n\tpath = ../shared.gitconfig\n[includeIf \"onbranch:main\"]\n\tpath = ~/proj/tools/branch.gitconfig\n",
		"home/proj/.githooks/":             "",
		"home/proj/shared.gitconfig":       "[core]\n\thooksPath = tools/hooks\n",
		"home/proj/tools/":                 "",
		"home/proj/tools/branch.gitconfig": "[include]\n\tpath = deeper.gitconfig\n",
		"home/.gitconfig":                  "[core]\n\thooksPath = ~/proj/global-hooks\n",
	})
	plan, err := f.plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	ro := protectedOf(plan)
	for _, want := range []string{".githooks", "shared.gitconfig", "tools/hooks", "tools/branch.gitconfig", "tools/deeper.gitconfig", "global-hooks"} {
		if !slices.Contains(ro, filepath.Join(f.ws, want)) {
			t.Errorf("%s is neither bound read-only nor reserved: %v", want, ro)
		}
	}

	bad := newFixture(t, map[string]string{"home/proj/.git/config": "[core\n"})
	if _, err := bad.plan(nil); err == nil || !strings.Contains(err.Error(), "cannot be parsed") {
		t.Errorf("an unparsable git config: err = %v, want a refusal naming it", err)
	}
}

// A link named like a secret (one the command could make in a run) is not
// masked itself, which would stop every later run; what it leads to is.
func TestSecretNamedLinkIsNoMount(t *testing.T) {
	f := newFixture(t, map[string]string{"home/elsewhere/real.env": "S=1"})
	os.Symlink(filepath.Join(f.home, "elsewhere/real.env"), filepath.Join(f.ws, ".env"))
	os.Symlink(filepath.Join(f.home, "nowhere"), filepath.Join(f.ws, "app/.env.local"))
	os.MkdirAll(filepath.Join(f.ws, "app"), 0o755)
	os.Symlink(filepath.Join(f.home, "nowhere"), filepath.Join(f.ws, "app/.env.local"))
	plan, err := f.plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	masked := append(mountsOf(plan, MaskFile), mountsOf(plan, MaskDir)...)
	if slices.Contains(masked, filepath.Join(f.ws, ".env")) || slices.Contains(masked, filepath.Join(f.ws, "app/.env.local")) {
		t.Errorf("a mask on a link: %v", masked)
	}
	if !slices.Contains(masked, filepath.Join(f.home, "elsewhere/real.env")) {
		t.Errorf("the file the link leads to is not masked: %v", masked)
	}
}

// The directories that hold a masked secret are pinned: renamed below a
// directory the next run does not search, the secret would be readable.
func TestDirsOfMaskedSecretsArePinned(t *testing.T) {
	f := newFixture(t, map[string]string{"home/proj/app/.env": "S=1"})
	plan, err := f.plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(plan.Guard.Pinned, filepath.Join(f.ws, "app")) {
		t.Errorf("app/ is not pinned: %v", plan.Guard.Pinned)
	}
}

func TestSymlinkedProtectedPathRefused(t *testing.T) {
	f := newFixture(t, map[string]string{"home/elsewhere/": ""})
	os.Symlink(filepath.Join(f.home, "elsewhere"), filepath.Join(f.ws, ".vscode"))
	_, err := f.plan(nil)
	var ie *InputError
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || !asInputError(err, &ie) || ie.Hint() == "" {
		t.Fatalf("err = %v, want a refusal of the symlinked protected path with a hint", err)
	}
}

func asInputError(err error, target **InputError) bool {
	ie, ok := err.(*InputError)
	if ok {
		*target = ie
	}
	return ok
}

func TestReadOnlyModeHasNoWritableRoots(t *testing.T) {
	f := newFixture(t, map[string]string{"home/proj/.env": "SECRET=1", "home/proj/app/.env.local": "SECRET=2"})
	plan, err := f.plan(func(o *policy.Options, _ *Input) { o.Flags.Mode = policy.ModeReadOnly })
	if err != nil {
		t.Fatal(err)
	}
	if got := mountsOf(plan, BindRW); len(got) != 0 {
		t.Errorf("read-only mode binds %v writable", got)
	}
	if len(plan.Guard.Reserved) != 0 {
		t.Errorf("read-only mode needs no reserved names: %v", plan.Guard.Reserved)
	}
	if !slices.Equal(plan.Landlock.Write, []string{"/tmp", "/dev/shm"}) {
		t.Errorf("landlock writes = %v", plan.Landlock.Write)
	}
	// Nothing is writable, but the workspace's secrets are still secrets.
	masked := append(mountsOf(plan, MaskFile), mountsOf(plan, MaskDir)...)
	for _, want := range []string{filepath.Join(f.ws, ".env"), filepath.Join(f.ws, "app/.env.local")} {
		if !slices.Contains(masked, want) {
			t.Errorf("read-only mode leaves %s readable; masked: %v", want, masked)
		}
	}
}

func TestFullAccessHasNoBoundary(t *testing.T) {
	f := newFixture(t, nil)
	plan, err := f.plan(func(o *policy.Options, _ *Input) { o.Flags.Mode = policy.ModeFullAccess })
	if err != nil {
		t.Fatal(err)
	}
	if !plan.FullAccess || plan.Namespaces || plan.Landlock.Enabled || plan.Seccomp.Enabled || len(plan.Mounts) > 0 {
		t.Errorf("full-access plan = %+v", plan)
	}
}

func TestLandlockModeComplement(t *testing.T) {
	f := newFixture(t, map[string]string{
		"home/.ssh/id_rsa":           "key",
		"home/.config/gh/hosts":      "token",
		"home/.config/nvim/init.lua": "",
	})
	tmp := filepath.Join(f.home, "tmp")
	os.MkdirAll(tmp, 0o700)
	plan, err := f.plan(func(o *policy.Options, in *Input) {
		o.Flags.AllowDegraded = []string{"landlock"}
		in.Degraded = policy.DegradedLandlock
		in.TmpDir = tmp
	})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Namespaces || len(plan.Mounts) != 0 || !plan.Landlock.DenyTCP || !plan.Seccomp.DenyNetworkExceptTCP || !plan.Seccomp.Supervise || len(plan.Guard.SocketPlaces) == 0 || plan.Guard.PrivateAbstract {
		t.Fatalf("landlock-mode plan = %+v", plan)
	}
	read := plan.Landlock.ReadExec
	for _, denied := range []string{filepath.Join(f.home, ".ssh"), filepath.Join(f.home, ".config/gh")} {
		for _, r := range read {
			if r == "/" || strings.HasPrefix(denied, r+"/") || r == denied {
				t.Errorf("read rule %s covers the denied %s", r, denied)
			}
		}
	}
	for _, want := range []string{filepath.Join(f.home, ".config/nvim"), filepath.Join(f.home, "proj"), "/usr"} {
		if !slices.Contains(read, want) {
			t.Errorf("read rules lack %s", want)
		}
	}
	if !slices.Contains(plan.Landlock.List, f.home) {
		t.Errorf("the home directory is not listable: %v", plan.Landlock.List)
	}
	if !slices.Contains(plan.Env, "TMPDIR="+tmp) {
		t.Errorf("TMPDIR is not the private temp dir: %v", plan.Env)
	}
}

func TestDeniedAncestorOfRootRefused(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.plan(func(o *policy.Options, _ *Input) {
		o.NoUserFile = false
		o.UserFile = filepath.Join(f.home, "user.toml")
		os.WriteFile(o.UserFile, []byte("version = 1\n[filesystem]\ndeny_read = [\""+f.home+"/pr*\"]\n"), 0o644)
	})
	if err == nil || !strings.Contains(err.Error(), "holds the writable root") {
		t.Fatalf("err = %v", err)
	}
}

func TestPatternDepthBound(t *testing.T) {
	deep := "home/proj/" + strings.Repeat("d/", unixplan.MaxPatternDepth) + ".env"
	f := newFixture(t, map[string]string{
		"home/proj/a/b/.env":            "x",
		deep:                            "x",
		"home/proj/node_modules/x/.env": "x",
	})
	plan, err := f.plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	masked := mountsOf(plan, MaskFile)
	if !slices.Contains(masked, filepath.Join(f.ws, "a/b/.env")) {
		t.Errorf("a/b/.env not masked: %v", masked)
	}
	if slices.Contains(masked, filepath.Join(f.home, strings.TrimPrefix(deep, "home/"))) {
		t.Errorf("a match deeper than unixplan.MaxPatternDepth was masked; the bound is documented, so the test must change with it")
	}
	if slices.Contains(masked, filepath.Join(f.ws, "node_modules/x/.env")) {
		t.Errorf("node_modules is not searched, by design")
	}
}

func TestShapeAgreesWithPlans(t *testing.T) {
	f := newFixture(t, nil)
	tmp := filepath.Join(f.home, "tmp")
	os.MkdirAll(tmp, 0o700)
	for _, mode := range []policy.Mode{policy.ModeWorkspaceWrite, policy.ModeReadOnly, policy.ModeFullAccess} {
		for _, net := range []string{"off", "proxy", "full"} {
			for _, degraded := range []policy.Degraded{"", policy.DegradedLandlock} {
				var pol *policy.Policy
				plan, err := f.plan(func(o *policy.Options, in *Input) {
					o.Flags.Mode = mode
					o.NoUserFile = false
					o.UserFile = filepath.Join(f.home, "u.toml")
					os.WriteFile(o.UserFile, []byte("version = 1\nallow_degraded = [\"landlock\"]\n[network]\nmode = \""+net+"\"\n"), 0o644)
					in.Degraded, in.TmpDir, in.ProxyURL = degraded, tmp, "http://cordon:s@127.0.0.1:4000"
				})
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", mode, net, degraded, err)
				}
				pol, _ = policy.Load(policy.Options{Workspace: f.ws, Home: f.home, UserFile: filepath.Join(f.home, "u.toml"), Flags: policy.Flags{Mode: mode}})
				if got, want := plan.Shape(), ShapeOf(pol, degraded); got != want {
					t.Errorf("%s/%s/%s: plan shape %+v, ShapeOf %+v", mode, net, degraded, got, want)
				}
			}
		}
	}
}

func TestHostSocketGrants(t *testing.T) {
	f := newFixture(t, nil)
	run := filepath.Join(filepath.Dir(f.home), "run")
	os.MkdirAll(run, 0o755)
	sock := filepath.Join(run, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Symlink(sock, filepath.Join(f.home, "docker.sock"))
	pol := filepath.Join(filepath.Dir(f.home), "grant.toml")
	body := fmt.Sprintf("version = 1\n[filesystem]\nhost_sockets = [%q, %q]\n", filepath.Join(f.home, "docker.sock"), filepath.Join(run, "absent.sock"))
	os.WriteFile(pol, []byte(body), 0o644)
	plan, err := f.plan(func(o *policy.Options, in *Input) { o.ExplicitFile = pol })
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Guard.SocketGrants; !slices.Equal(got, []string{sock}) {
		t.Errorf("grants = %v, want the link resolved and the absent socket left out: [%s]", got, sock)
	}
	if got := mountsOf(plan, HostSocket); !slices.Equal(got, []string{sock}) {
		t.Errorf("host socket mounts = %v, want [%s]", got, sock)
	}
	if !slices.Contains(plan.Guard.SocketPlaces, f.ws) || !slices.Contains(plan.Guard.SocketPlaces, "/tmp") {
		t.Errorf("socket places %v lack the workspace or /tmp", plan.Guard.SocketPlaces)
	}
	if !plan.Seccomp.Supervise || !plan.Guard.PrivateAbstract {
		t.Errorf("seccomp %+v, guard %+v: want supervision and private abstract sockets in a network namespace", plan.Seccomp, plan.Guard)
	}

	// A granted socket in a denied directory is a conflict, not a silent hole.
	secret := filepath.Join(f.home, ".ssh")
	os.MkdirAll(secret, 0o700)
	l2, err := net.Listen("unix", filepath.Join(secret, "agent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	os.WriteFile(pol, []byte(fmt.Sprintf("version = 1\n[filesystem]\nhost_sockets = [%q]\n", filepath.Join(secret, "agent.sock"))), 0o644)
	if _, err := f.plan(func(o *policy.Options, in *Input) { o.ExplicitFile = pol }); err == nil || !strings.Contains(err.Error(), "denied path") {
		t.Errorf("grant inside a denied path: err = %v, want a conflict", err)
	}
}
