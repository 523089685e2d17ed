package macplan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
)

// The host of these tests: a Mac's layout, with a user "ada" whose project
// is a git repository holding secrets.
const (
	home    = "/Users/ada"
	ws      = "/Users/ada/src/proj"
	tmpdir  = "/var/folders/zz/T/cordon-run-1/tmp" // as os.TempDir spells it
	probe   = "/var/folders/zz/T/cordon-run-1/probe"
	cacheD  = "/Users/ada/.cache/cordon/workspaces/proj-0123456789ab"
	stateD  = "/Users/ada/.local/state/cordon"
	cordonB = "/usr/local/bin/cordon"
)

// macHost returns the usual host: the project, secrets, a hook.
func macHost() *fakeFS {
	f := newMacFS()
	f.dir(home+"/.ssh").file(home+"/.ssh/id_ed25519", "KEY")
	f.file(home+"/.aws/credentials", "KEY")
	f.dir(home+"/Library/Keychains").file(home+"/Library/Keychains/login.keychain-db", "")
	f.file(home+"/.zshrc", "")
	f.dir(stateD).file(stateD+"/audit.jsonl", "")
	f.dir(cacheD)
	f.dir("/private" + tmpdir).dir("/private" + probe)
	f.dir(ws+"/.git/hooks").file(ws+"/.git/config", "[core]\n").file(ws+"/.git/HEAD", "ref: refs/heads/main\n")
	f.file(ws+"/.env", "SECRET=1").file(ws+"/.env.example", "SECRET=")
	f.file(ws+"/config/.env.local", "SECRET=2")
	f.file(home+"/notes/prod-secret.txt", "KEY").link(ws+"/deploy/.env", home+"/notes/prod-secret.txt")
	f.file(ws+"/src/main.go", "package main")
	f.dir(ws+"/node_modules/pkg").file(ws+"/node_modules/pkg/.env", "ignored")
	return f
}

// mkPolicy merges the built-in default with the user's file (and flags),
// without reading the filesystem: the paths are the fake Mac's.
func mkPolicy(t *testing.T, workspace, userTOML string, flags policy.Flags) *policy.Policy {
	t.Helper()
	b, err := policy.ParseFile(policy.LayerBuiltin, "builtin", []byte(policy.BuiltinText()))
	if err != nil {
		t.Fatal(err)
	}
	layers := []*policy.Layer{b}
	if userTOML != "" {
		u, err := policy.ParseFile(policy.LayerUser, home+"/.config/cordon/policy.toml", []byte("version = 1\n"+userTOML))
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, u)
	}
	p, err := policy.Merge(layers, policy.Options{Workspace: workspace, Home: home, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type setup struct {
	fs       *fakeFS
	user     string
	flags    policy.Flags
	ws       string
	mod      func(*Input)
	readOnly bool
}

func (s setup) input(t *testing.T) Input {
	t.Helper()
	if s.fs == nil {
		s.fs = macHost()
	}
	if s.ws == "" {
		s.ws = ws
	}
	if s.readOnly {
		s.flags.Mode = policy.ModeReadOnly
	}
	in := Input{
		Policy:    mkPolicy(t, s.ws, s.user, s.flags),
		Workspace: s.ws, Home: home, UID: 501,
		TmpDir: tmpdir, ProbeDir: probe, Cordon: cordonB,
		Private:     []string{stateD},
		PolicyFiles: []string{home + "/.config/cordon/policy.toml"},
		Argv:        []string{"make", "test"},
		Env:         []string{"PATH=/usr/bin:/bin", "HOME=" + home, "HTTPS_PROXY=http://corp:8080"},
		FS:          s.fs,
	}
	if !s.readOnly {
		in.CacheDir = cacheD
	}
	if in.Policy.Network.Value.Mode == "proxy" {
		in.ProxyURL = "http://cordon:s3cret@127.0.0.1:49152"
	}
	if s.mod != nil {
		s.mod(&in)
	}
	return in
}

// compiled is a plan with its profile read back and checked.
type compiled struct {
	plan *Plan
	rep  *report.Report
	ev   *evaluator
	pp   *parsedProfile
}

func compile(t *testing.T, s setup) *compiled {
	t.Helper()
	plan, rep, err := Make(s.input(t))
	if err != nil {
		t.Fatalf("Make: %v", err)
	}
	c := &compiled{plan: plan, rep: rep}
	if plan.FullAccess {
		return c
	}
	forms, err := readAll(plan.Profile)
	if err != nil {
		t.Fatalf("the profile does not read back: %v\n%s", err, plan.Profile)
	}
	if c.pp, err = check(forms); err != nil {
		t.Fatalf("the profile does not check: %v", err)
	}
	if c.ev, err = newEvaluator(c.pp, plan.Params); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *compiled) may(t *testing.T, q query) bool {
	t.Helper()
	ok, err := c.ev.allowed(q)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// canon is how Seatbelt spells the fake host's paths.
func canon(p string) string {
	for _, l := range []string{"/var/", "/tmp/", "/etc/"} {
		if strings.HasPrefix(p, l) {
			return "/private" + p
		}
	}
	return p
}

func read(p string) query   { return query{op: "file-read-data", path: canon(p)} }
func write(p string) query  { return query{op: "file-write-data", path: canon(p)} }
func create(p string) query { return query{op: "file-write-create", path: canon(p)} }
func unlink(p string) query { return query{op: "file-write-unlink", path: canon(p)} }
func exec(p string) query   { return query{op: "process-exec", path: canon(p)} }
func mach(name string) query {
	return query{op: "mach-lookup", name: name}
}
func tcp(addr string) query     { return query{op: "network-outbound", remote: addr} }
func unixConn(p string) query   { return query{op: "network-outbound", unix: true, path: canon(p)} }
func sysctl(name string) query  { return query{op: "sysctl-read", name: name} }
func signalTo(t string) query   { return query{op: "signal", target: t} }
func link(p string) query       { return query{op: "file-link", path: canon(p)} }
func appleEvent(p string) query { return query{op: "appleevent-send", name: p} }

type probeCase struct {
	name  string
	q     query
	allow bool
}

// escapes is the table the Linux escape tests (tests/escape) pass, as far
// as it applies on macOS, asked of the default policy's profile.
func escapes() []probeCase {
	return []probeCase{
		{"write in the workspace", write(ws + "/src/main.go"), true},
		{"create in the workspace", create(ws + "/build/out.o"), true},
		{"write in the private TMPDIR", create(tmpdir + "/x"), true},
		{"write in the private cache", create(cacheD + "/go-build/x"), true},
		{"write outside the workspace", create(home + "/outside"), false},
		{"write through a symlink out (the kernel checks the target)", write(home + "/.zshrc"), false},
		{"write through a dangling symlink (creates the target)", create(home + "/created-by-link"), false},
		{"write /tmp, shared with the host", create("/tmp/x"), false},
		{"write the real per-user temp dir", create("/var/folders/zz/T/other"), false},
		{"write the probe dir", create(probe + "/x"), false},
		{"persist as a launch agent", create(home + "/Library/LaunchAgents/evil.plist"), false},
		{"write .git/config", write(ws + "/.git/config"), false},
		{"add a hook", create(ws + "/.git/hooks/pre-commit"), false},
		{"remove .git/hooks", unlink(ws + "/.git/hooks"), false},
		{"rename .git away", unlink(ws + "/.git"), false},
		{"git may write its objects", create(ws + "/.git/objects/ab/cdef"), true},
		{"create absent .vscode", create(ws + "/.vscode"), false},
		{"create in absent .vscode", create(ws + "/.vscode/settings.json"), false},
		{"create absent .mcp.json", create(ws + "/.mcp.json"), false},
		{"create absent .claude", create(ws + "/.claude/settings.json"), false},
		{"write the policy file", write(home + "/.config/cordon/policy.toml"), false},
		{"remove the workspace", unlink(ws), false},
		{"read a denied secret", read(home + "/.ssh/id_ed25519"), false},
		{"list ~/.ssh", query{op: "file-read-metadata", path: home + "/.ssh"}, false},
		{"read ~/.aws", read(home + "/.aws/credentials"), false},
		{"read a secret that does not exist yet", read(home + "/.kube/config"), false},
		{"read the keychain files", read(home + "/Library/Keychains/login.keychain-db"), false},
		{"run a program from a denied path", exec(home + "/.ssh/tool"), false},
		{"read the workspace's .env", read(ws + "/.env"), false},
		{"read a nested .env.local", read(ws + "/config/.env.local"), false},
		{"read a secret through a link named .env (the kernel checks the target)", read(home + "/notes/prod-secret.txt"), false},
		{"lstat a link named .env", query{op: "file-read-metadata", path: ws + "/deploy/.env"}, false},
		{"read a file next to the link's target", read(home + "/notes/todo.txt"), true},
		{"rename .env to read it under another name", unlink(ws + "/.env"), false},
		{"rename the directory holding a .env", unlink(ws + "/config"), false},
		{"overwrite .env", write(ws + "/.env"), false},
		{"read .env.example (allowed by name)", read(ws + "/.env.example"), true},
		{"read source", read(ws + "/src/main.go"), true},
		{"read the system", read("/usr/lib/libSystem.B.dylib"), true},
		{"read /etc/hosts", read("/etc/hosts"), true},
		{"read cordon's audit trail", read(stateD + "/audit.jsonl"), false},
		{"tamper with cordon's state", write(stateD + "/audit.jsonl"), false},
		{"make a hard link", link(ws + "/x"), false},
		{"connect anywhere", tcp("93.184.216.34:443"), false},
		{"connect to a loopback service", tcp("127.0.0.1:5432"), false},
		{"connect to the DNS resolver's socket", unixConn("/var/run/mDNSResponder"), false},
		{"connect to the Docker socket", unixConn(home + "/.docker/run/docker.sock"), false},
		{"connect to a socket in the workspace", unixConn(ws + "/tmp/app.sock"), true},
		{"bind a TCP port", query{op: "network-bind", remote: "127.0.0.1:8080"}, false},
		{"look up the keychain", mach("com.apple.SecurityServer"), false},
		{"look up the pasteboard", mach("com.apple.pasteboard.1"), false},
		{"send AppleEvents (service)", mach("com.apple.coreservices.appleevents"), false},
		{"send AppleEvents (operation)", appleEvent("com.apple.Terminal"), false},
		{"accessibility", mach("com.apple.axserver"), false},
		{"grant itself permissions", mach("com.apple.tccd"), false},
		{"open an application", mach("com.apple.coreservices.launchservicesd"), false},
		{"register a login item", mach("com.apple.xpc.smd"), false},
		{"stream the system log", mach("com.apple.diagnosticd"), false},
		{"resolve names", mach("com.apple.SystemConfiguration.DNSConfiguration"), false},
		{"verify certificates (no network)", mach("com.apple.trustd.agent"), false},
		{"look up users", mach("com.apple.system.opendirectoryd.libinfo"), true},
		{"read preferences", mach("com.apple.cfprefsd.daemon"), true},
		{"write preferences", query{op: "user-preference-write"}, false},
		{"read preferences (operation)", query{op: "user-preference-read"}, true},
		{"an unknown service", mach("com.example.agent"), false},
		{"signal its own processes", signalTo("same-sandbox"), true},
		{"signal other processes of the user", signalTo("others"), false},
		{"inspect other processes", query{op: "process-info-pidinfo", target: "others"}, false},
		{"read other processes' arguments", sysctl("kern.procargs2"), false},
		{"read the CPU count", sysctl("hw.ncpu"), true},
		{"read CPU features", sysctl("hw.optional.arm.FEAT_AES"), true},
		{"become root with sudo", exec("/usr/bin/sudo"), false},
		{"run the compiler", exec("/usr/bin/cc"), true},
		{"run a program built in the workspace", exec(ws + "/bin/app"), true},
		{"create a unix socket", query{op: "system-socket", domain: "AF_UNIX"}, true},
		{"open another terminal", write("/dev/ttys009"), false},
		{"write /dev/null", write("/dev/null"), true},
		{"open a pty of its own", query{op: "file-write-data", path: "/dev/ttys010", ext: "com.apple.sandbox.pty"}, true},
		{"read hardware serials", query{op: "iokit-get-properties"}, false},
		{"read the raw disk (as root)", read("/dev/rdisk1s1"), false},
		{"capture packets (as root)", read("/dev/bpf0"), false},
		{"other IOKit clients", query{op: "iokit-open", name: "IOHIDParamUserClient"}, false},
		{"other apps' shared memory", query{op: "ipc-posix-shm-read-data", name: "com.example.shm"}, false},
	}
}

func TestEscapeTable(t *testing.T) {
	c := compile(t, setup{})
	for _, p := range escapes() {
		if got := c.may(t, p.q); got != p.allow {
			t.Errorf("%s (%s): allowed = %v, want %v", p.name, p.q, got, p.allow)
		}
	}
}

// TestEscapeTableMeansSomething: the same questions asked of a profile
// that allows everything get "yes", so each "no" above is the profile's.
func TestEscapeTableMeansSomething(t *testing.T) {
	forms, err := readAll("(version 1)\n(deny default)\n(allow file-read* file-write* file-link process-exec network* mach-lookup signal process-info* sysctl-read user-preference-write user-preference-read appleevent-send iokit-get-properties iokit-open ipc-posix-shm-read-data system-socket)")
	if err != nil {
		t.Fatal(err)
	}
	knownOps["file-link"], knownOps["user-preference-write"], knownOps["appleevent-send"], knownOps["iokit-get-properties"] = true, true, true, true
	defer func() {
		for _, op := range []string{"file-link", "user-preference-write", "appleevent-send", "iokit-get-properties"} {
			delete(knownOps, op)
		}
	}()
	pp, err := check(forms)
	if err != nil {
		t.Fatal(err)
	}
	ev := &evaluator{pp: pp, params: map[string]string{}}
	for _, p := range escapes() {
		if ok, err := ev.allowed(p.q); err != nil || !ok {
			t.Errorf("%s: an allow-everything profile does not allow it (%v): the question tests nothing", p.name, err)
		}
	}
}

func TestProxyNetwork(t *testing.T) {
	c := compile(t, setup{user: "[network]\nmode = \"proxy\"\nallow = [\"proxy.golang.org\"]\n"})
	for _, p := range []probeCase{
		{"the proxy", tcp("127.0.0.1:49152"), true},
		{"the proxy over IPv6 loopback", tcp("[::1]:49152"), true},
		{"another loopback port", tcp("127.0.0.1:49153"), false},
		{"the proxy's port elsewhere", tcp("10.0.0.1:49152"), false},
		{"anywhere else", tcp("93.184.216.34:443"), false},
		{"trustd, for TLS through the proxy", mach("com.apple.trustd.agent"), true},
		{"still no DNS", mach("com.apple.SystemConfiguration.DNSConfiguration"), false},
	} {
		if got := c.may(t, p.q); got != p.allow {
			t.Errorf("%s: allowed = %v, want %v", p.name, got, p.allow)
		}
	}
	if c.plan.ProxyPort != 49152 {
		t.Errorf("proxy port = %d", c.plan.ProxyPort)
	}
	env := strings.Join(c.plan.Env, "\n")
	if !strings.Contains(env, "HTTPS_PROXY=http://cordon:s3cret@127.0.0.1:49152") || strings.Contains(env, "corp:8080") {
		t.Errorf("the command's proxy settings are not cordon's:\n%s", env)
	}
	if l := layer(c.rep, "network"); l.Status != report.Downgraded || !strings.Contains(l.Detail, "trustd") {
		t.Errorf("network layer = %+v; it must say what trustd may do", l)
	}
}

func TestFullNetwork(t *testing.T) {
	c := compile(t, setup{user: "[network]\nmode = \"full\"\n"})
	if !c.may(t, tcp("93.184.216.34:443")) || !c.may(t, mach("com.apple.SystemConfiguration.DNSConfiguration")) {
		t.Error("network.mode = full does not give the host's network")
	}
	if c.may(t, mach("com.apple.SecurityServer")) || c.may(t, write(home+"/x")) {
		t.Error("network.mode = full must not open the keychain or the filesystem")
	}
	if c.may(t, unixConn(home+"/.docker/run/docker.sock")) {
		t.Error("network.mode = full must not open host unix sockets")
	}
	if !c.may(t, unixConn("/var/run/mDNSResponder")) || !c.may(t, query{op: "network-bind", remote: "127.0.0.1:8080"}) {
		t.Error("network.mode = full must give DNS and listeners")
	}
}

func TestReadOnly(t *testing.T) {
	c := compile(t, setup{readOnly: true})
	if c.may(t, write(ws+"/src/main.go")) || c.may(t, create(ws+"/new")) {
		t.Error("read-only mode lets the workspace be written")
	}
	if !c.may(t, create(tmpdir+"/x")) || !c.may(t, read(ws+"/src/main.go")) {
		t.Error("read-only mode must keep TMPDIR writable and the workspace readable")
	}
	if c.may(t, read(ws+"/.env")) {
		t.Error("read-only mode: .env must stay unreadable")
	}
	if env := strings.Join(c.plan.Env, "\n"); !strings.Contains(env, "GOCACHE=/private"+tmpdir+"/.cordon-cache/go-build") {
		t.Errorf("read-only caches are not in TMPDIR:\n%s", env)
	}
}

func TestFullAccess(t *testing.T) {
	c := compile(t, setup{flags: policy.Flags{Mode: policy.ModeFullAccess}})
	if !c.plan.FullAccess || c.plan.Profile != "" {
		t.Fatalf("plan = %+v", c.plan)
	}
	if got := c.plan.ExecArgv(); !slices.Equal(got, []string{cordonB, ShimArg, "-rlimit", "4=0", "--", "make", "test"}) {
		t.Errorf("full access runs %q", got)
	}
	if l := layer(c.rep, "processes"); l.Status == "" {
		t.Error("full access still reports the process layer")
	}
}

func TestExtraRootsLinksAndWorktrees(t *testing.T) {
	f := macHost()
	other := "/Users/ada/src/other"
	f.dir(other).dir("/Users/ada/src/main-repo/.git/worktrees/proj/hooks")
	f.file(ws+"/.git", "gitdir: ../main-repo/.git/worktrees/proj\n") // a worktree: .git is a file
	delete(f.nodes, ws+"/.git/hooks")
	delete(f.nodes, ws+"/.git/config")
	delete(f.nodes, ws+"/.git/HEAD")
	f.file("/Users/ada/src/main-repo/.git/worktrees/proj/commondir", "../..\n")
	f.hardlink(ws + "/src/linked.txt")
	f.link(ws+"/out", "/Users/ada") // a link in the workspace: harmless, the kernel checks the target
	c := compile(t, setup{fs: f, ws: ws, user: "[filesystem]\nwritable = [\"" + other + "\", \"/Users/ada/src/main-repo\"]\n"})
	for _, p := range []probeCase{
		{"write the extra root", create(other + "/x"), true},
		{"the .git file is protected", write(ws + "/.git"), false},
		{"the worktree's gitdir hooks", create("/Users/ada/src/main-repo/.git/worktrees/proj/hooks/pre-commit"), false},
		{"the common dir's config", write("/Users/ada/src/main-repo/.git/config"), false},
		{"the common dir's hooks", create("/Users/ada/src/main-repo/.git/hooks/x"), false},
		{"a hard-linked file", write(ws + "/src/linked.txt"), false},
		{"protected names in every root", create(other + "/.vscode/settings.json"), false},
		{"but not in cordon's cache", create(cacheD + "/.vscode"), true},
	} {
		if got := c.may(t, p.q); got != p.allow {
			t.Errorf("%s: allowed = %v, want %v", p.name, got, p.allow)
		}
	}
}

func TestAbsentParentsProtectTheWholeName(t *testing.T) {
	f := macHost()
	for k := range f.nodes {
		if unixplan.Under(k, ws+"/.git") {
			delete(f.nodes, k)
		}
	}
	c := compile(t, setup{fs: f})
	if !slices.Contains(c.plan.Absent, ws+"/.git") {
		t.Errorf("absent = %v, want the whole .git", c.plan.Absent)
	}
	if c.may(t, create(ws+"/.git")) || c.may(t, create(ws+"/.git/hooks/pre-commit")) {
		t.Error("an absent .git can be created, and hooks in it")
	}
}

// TestGitConfigTargetsAreProtected: the hooks directory core.hooksPath
// names (a project's ci/git-hooks), the files the config includes, and the
// hooks directory of the user's own ~/.gitconfig cannot be written,
// created in or removed: git runs what is there on the host at the next
// commit. The same paths are writable when no config names them, so the
// test sees the config's effect.
func TestGitConfigTargetsAreProtected(t *testing.T) {
	probes := []query{
		create(ws + "/ci/git-hooks/pre-commit"), write(ws + "/ci/git-hooks/lib.sh"), unlink(ws + "/ci/git-hooks"),
		write(ws + "/shared.gitconfig"), create(ws + "/tools/hooks/post-checkout"),
	}
	for _, named := range []bool{true, false} {
		f := macHost()
		f.dir(ws+"/ci/git-hooks").file(ws+"/ci/git-hooks/lib.sh", "").file(ws+"/shared.gitconfig", "").dir(ws + "/tools")
		if named {
			f.file(ws+"/.git/config", "[core]\n\thooksPath = ci/git-hooks\n[include]\n\tpath = ../shared.gitconfig\n")
			f.file(home+"/.gitconfig", "[core]\n\thooksPath = "+ws+"/tools/hooks\n")
		}
		c := compile(t, setup{fs: f})
		for _, q := range probes {
			if got := c.may(t, q); got == named {
				t.Errorf("config names the targets = %v: %s allowed = %v", named, q, got)
			}
		}
	}
}

func TestSymlinkedProtectedPathIsRefused(t *testing.T) {
	f := macHost()
	delete(f.nodes, ws+"/.git/hooks")
	f.link(ws+"/.git/hooks", ws+"/hooks-elsewhere")
	_, _, err := Make(setup{fs: f}.input(t))
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err = %v, want a refusal naming the link", err)
	}
}

// TestDeniedPathHoldingARootIsRefused: policy.Merge refuses a deny_read
// entry over the workspace; the planner refuses it too, for the paths it
// adds itself (cordon's private ones).
func TestDeniedPathHoldingARootIsRefused(t *testing.T) {
	_, _, err := Make(setup{mod: func(in *Input) { in.Private = append(in.Private, "/Users/ada/src") }}.input(t))
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "holds the writable root") {
		t.Fatalf("err = %v", err)
	}
}

func TestMemoryLimitNeedsTheWeakerMode(t *testing.T) {
	s := setup{user: "[limits]\nmemory = \"1GiB\"\n"}
	_, _, err := Make(s.input(t))
	var le *LimitError
	if !errors.As(err, &le) || !strings.Contains(le.Hint(), "macos-no-memory-limit") {
		t.Fatalf("err = %v, want a refusal naming the weaker mode", err)
	}
	s.flags.AllowDegraded = []string{"macos-no-memory-limit"}
	c := compile(t, s)
	if l := layer(c.rep, "rlimits"); l.Status != report.Downgraded || !strings.Contains(l.Detail, "NOT enforced") {
		t.Errorf("rlimits = %+v", l)
	}
	if c.rep.Degraded != "macos-no-memory-limit" {
		t.Errorf("report degraded = %q", c.rep.Degraded)
	}
}

func TestProcessLimitCountsTheUsersProcesses(t *testing.T) {
	c := compile(t, setup{user: "[limits]\nmax_processes = 100\n", mod: func(in *Input) { in.UserProcesses = 412 }})
	var got uint64
	for _, r := range c.plan.Rlimits {
		if r.Name == "max_processes" {
			got = r.Value
			if r.Resource != 7 {
				t.Errorf("RLIMIT_NPROC is 7 on macOS, got %d", r.Resource)
			}
		}
	}
	if got != 512 {
		t.Errorf("max_processes = %d, want 100 above the 412 running", got)
	}
}

func TestEnvironment(t *testing.T) {
	c := compile(t, setup{})
	env := strings.Join(c.plan.Env, "\n")
	for _, want := range []string{"TMPDIR=/private" + tmpdir, "GOCACHE=" + cacheD + "/go-build", "CORDON_SANDBOX=1", "PWD=" + ws} {
		if !strings.Contains(env, want+"\n") && !strings.HasSuffix(env, want) {
			t.Errorf("env lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(env, "PROXY") {
		t.Errorf("network off, yet proxy settings pass:\n%s", env)
	}
}

func TestExecArgv(t *testing.T) {
	c := compile(t, setup{})
	argv := c.plan.ExecArgv()
	if argv[0] != SandboxExec || argv[1] != "-p" || argv[2] != c.plan.Profile {
		t.Fatalf("argv starts %q", argv[:3])
	}
	i := slices.Index(argv, "--")
	if i < 0 || !slices.Equal(argv[i+1:], []string{cordonB, ShimArg, "-probe", "/private" + probe, "-rlimit", "4=0", "--", "make", "test"}) {
		t.Fatalf("argv after the parameters = %q", argv[i:])
	}
	for _, a := range argv[3:i] {
		if !strings.HasPrefix(a, "-D") {
			t.Errorf("argument %q between the profile and -- is not a parameter", a)
		}
	}
}

func TestCaseInsensitiveVolume(t *testing.T) {
	f := macHost()
	f.fold = true
	f.file(ws+"/app/.ENV", "SECRET=3")
	c := compile(t, setup{fs: f, user: "[filesystem]\ndeny_read = [\"~/Library/keychains\"]\n", mod: func(in *Input) { in.CaseInsensitive = true }})
	if !slices.Contains(c.plan.Denied, ws+"/app/.ENV") {
		t.Errorf("on a volume that ignores case, .ENV matches .env; denied = %v", c.plan.Denied)
	}
	for _, k := range c.plan.Params {
		if strings.Contains(k.Value, "keychains") {
			t.Errorf("parameter %s = %s: not spelled as the directory spells it (Keychains)", k.Key, k.Value)
		}
	}
}

func TestPlannerResolvesMacLinks(t *testing.T) {
	c := compile(t, setup{})
	if !slices.Contains(c.plan.Writable, "/private"+tmpdir) {
		t.Errorf("writable = %v; TMPDIR must be spelled /private/var/...", c.plan.Writable)
	}
	if c.plan.ProbeDir != "/private"+probe {
		t.Errorf("probe dir = %s", c.plan.ProbeDir)
	}
	r := resolver{fs: macHost()}
	for in, want := range map[string]string{
		"/tmp":                 "/private/tmp",
		"/tmp/absent/deeper":   "/private/tmp/absent/deeper",
		"/etc/hosts":           "/private/etc/hosts",
		"/var/../etc/./hosts":  "/private/etc/hosts",
		"/Users/ada/src/proj/": ws,
	} {
		got, _, err := r.resolve(in)
		if err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	loop := newMacFS().link("/a", "/b").link("/b", "/a")
	if _, _, err := (resolver{fs: loop}).resolve("/a/x"); err == nil {
		t.Error("a link loop resolves")
	}
}

// TestOrder: every allow comes before every deny, so an explicit deny
// wins under the last-match rule.
func TestOrder(t *testing.T) {
	for _, s := range goldenSetups() {
		c := compile(t, s.setup)
		if c.pp == nil {
			continue
		}
		seenDeny := false
		for _, r := range c.pp.rules {
			if r.action == "deny" {
				seenDeny = true
			} else if seenDeny {
				t.Errorf("%s: an allow rule (%v) follows a deny rule", s.name, r.ops)
			}
		}
	}
}

func layer(rep *report.Report, name string) report.Layer {
	for _, l := range rep.Layers {
		if l.Name == name {
			return l
		}
	}
	return report.Layer{}
}

func TestReportSaysUnverified(t *testing.T) {
	for _, s := range goldenSetups() {
		c := compile(t, s.setup)
		if l := layer(c.rep, "verification"); l.Status != report.Missing || !strings.Contains(l.Detail, Unverified) {
			t.Errorf("%s: verification layer = %+v", s.name, l)
		}
		for _, l := range c.rep.Layers {
			if l.Status == report.Applied && l.Name != "environment" && l.Name != "rlimits" && !strings.Contains(l.Detail, Unverified) {
				t.Errorf("%s: layer %s claims %q without saying it is unverified", s.name, l.Name, l.Detail)
			}
		}
	}
}

func TestRenderRefusesUnsafeConstants(t *testing.T) {
	for _, bad := range []string{`a"b`, `a)b`, "a\nb", `a\b`, "", "a b;c"} {
		p := &Profile{Rules: []Rule{{Action: Allow, Ops: []string{"mach-lookup"}, Filters: []Filter{GlobalName(bad)}}}}
		if _, err := p.Render(); err == nil {
			t.Errorf("constant %q rendered", bad)
		}
		p = &Profile{Rules: []Rule{{Action: Allow, Ops: []string{"file-read*"}, Filters: []Filter{Literal(ParamRef(bad))}}}}
		if _, err := p.Render(); err == nil {
			t.Errorf("parameter key %q rendered", bad)
		}
	}
	p := &Profile{Rules: []Rule{{Action: Allow, Ops: []string{"file-read*"}, Why: "a\r(allow default)"}}}
	if _, err := p.Render(); err == nil {
		t.Error("a comment with a carriage return rendered")
	}
}

func TestEveryConstantIsSafe(t *testing.T) {
	var all []string
	for _, s := range AllowedServices {
		all = append(all, s.Name)
	}
	for _, s := range FullNetworkServices {
		all = append(all, s.Name)
	}
	for _, c := range DeniedClasses {
		all = append(all, c.Services...)
	}
	all = append(append(append(append(append(all, Sysctls...), SysctlPrefixes...), EscalationPrograms...), Devices...), RawDevices...)
	for _, s := range all {
		if !safeConst(s) {
			t.Errorf("constant %q is outside the safe set", s)
		}
	}
}

func flagsFullAccess() policy.Flags { return policy.Flags{Mode: policy.ModeFullAccess} }

func TestShimArgsRoundTrip(t *testing.T) {
	want := ShimSpec{ProbeDir: "/private/var/x y/probe", Rlimits: []Rlimit{{Resource: 4}, {Resource: 8, Value: 256}}, Argv: []string{"sh", "-c", "echo -- -probe"}}
	argv := ShimArgv(cordonB, want)
	if argv[0] != cordonB || argv[1] != ShimArg {
		t.Fatalf("argv = %q", argv)
	}
	got, err := ParseShimArgs(argv[2:])
	if err != nil {
		t.Fatal(err)
	}
	if got.ProbeDir != want.ProbeDir || !slices.Equal(got.Argv, want.Argv) || len(got.Rlimits) != 2 || got.Rlimits[1].Value != 256 {
		t.Errorf("round trip: %+v", got)
	}
	for _, bad := range [][]string{{}, {"--"}, {"-probe"}, {"-rlimit", "x=1", "--", "a"}, {"-rlimit", "4", "--", "a"}, {"-nope", "--", "a"}} {
		if _, err := ParseShimArgs(bad); err == nil {
			t.Errorf("ParseShimArgs(%q) succeeded", bad)
		}
	}
}
