package policy

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// testEnv makes a home and a workspace inside it, and writes files given as
// path (relative to the temp root) -> content.
func testEnv(t *testing.T, files map[string]string) (home, ws string) {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home = filepath.Join(root, "home")
	ws = filepath.Join(home, "src", "proj")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return home, ws
}

func load(t *testing.T, home, ws string, mod func(*Options)) (*Policy, error) {
	t.Helper()
	o := Options{Workspace: ws, Home: home, UserFile: filepath.Join(home, ".config/cordon/policy.toml")}
	if _, err := os.Stat(o.UserFile); err != nil {
		o.NoUserFile = true
	}
	if mod != nil {
		mod(&o)
	}
	return Load(o)
}

func TestBuiltinDefaults(t *testing.T) {
	home, ws := testEnv(t, nil)
	p, err := load(t, home, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode.Value != ModeWorkspaceWrite || p.Mode.From.Layer != LayerBuiltin {
		t.Errorf("mode = %+v, want workspace-write from builtin", p.Mode)
	}
	wantDeny := []string{filepath.Join(home, ".ssh"), filepath.Join(home, ".aws"), filepath.Join(home, ".gnupg"),
		filepath.Join(home, ".config/gcloud"), filepath.Join(home, ".kube"), filepath.Join(home, ".docker/config.json"),
		filepath.Join(home, ".netrc"), filepath.Join(home, ".git-credentials"), ".env", ".env.*"}
	have := strings.Join(Values(p.Filesystem.DenyRead), "\n")
	for _, w := range wantDeny {
		if !strings.Contains("\n"+have+"\n", "\n"+w+"\n") {
			t.Errorf("built-in deny_read lacks %s", w)
		}
	}
	for _, w := range []string{".git/hooks", ".git/config", ".codex", ".claude", ".cursor", ".vscode", ".idea", ".mcp.json", filepath.Join(home, ".bashrc")} {
		if !strings.Contains("\n"+strings.Join(Values(p.Filesystem.Protected), "\n")+"\n", "\n"+w+"\n") {
			t.Errorf("built-in protected lacks %s", w)
		}
	}
	if p.Layers[0].Kind != LayerBuiltin || len(p.Layers[0].SHA256) != 64 {
		t.Errorf("layers = %+v", p.Layers)
	}
}

func TestFileErrorsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		name, file, wantLoc, wantKey, wantMsg string
	}{
		{"unknown key", "version = 1\n\n[filesystem]\nwritabel = [\"/x\"]\n", ":4", "filesystem.writabel", "unknown key"},
		{"bad mode", "version = 1\nmode = \"yolo\"\n", ":2", "mode", "unknown mode"},
		{"wrong type", "version = 1\n[limits]\nmax_processes = \"many\"\n", ":3", "limits.max_processes", "want a number"},
		{"bad size", "version = 1\n[limits]\nmemory = \"12 parsecs\"\n", ":3", "limits.memory", "bad size"},
		{"bad duration", "version = 1\n[limits]\ntimeout = \"soon\"\n", ":3", "limits.timeout", "bad duration"},
		{"relative writable", "version = 1\n[filesystem]\nwritable = [\n  \"build\",\n]\n", ":3", "filesystem.writable", "not an absolute path"},
		{"glob protected", "version = 1\n[filesystem]\nprotected = [\"*.key\"]\n", ":3", "filesystem.protected", "contains a glob"},
		{"conflict", "version = 1\nmode = \"read-only\"\n[filesystem]\nwritable = [\"/srv/x\"]\n", ":4", "filesystem.writable", "conflict"},
		{"deny and allow", "version = 1\n[filesystem]\ndeny_read = [\"/a\"]\nallow_read = [\"/a\"]\n", ":4", "filesystem.allow_read", "both denied and allowed"},
		{"missing version", "mode = \"read-only\"\n", ":1", "", "missing version"},
		{"wrong version", "version = 2\n", ":1", "version", "unsupported version"},
		{"syntax", "version = 1\nmode = \n", ":2", "", ""},
		{"bad env", "version = 1\n[environment]\npass = [\"A-B\"]\n", ":3", "environment.pass", "bad variable pattern"},
		{"bad degraded", "version = 1\nallow_degraded = [\"nothing\"]\n", ":2", "allow_degraded", "unknown weaker mode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFile(LayerUser, "/etc/x/policy.toml", []byte(c.file))
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FileError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "/etc/x/policy.toml"+c.wantLoc) {
				t.Errorf("error %q does not locate %s", msg, c.wantLoc)
			}
			if c.wantKey != "" && fe.Key != c.wantKey {
				t.Errorf("key = %q, want %q (%s)", fe.Key, c.wantKey, msg)
			}
			if !strings.Contains(msg, c.wantMsg) {
				t.Errorf("error %q does not say %q", msg, c.wantMsg)
			}
		})
	}
}

func TestWorkspacePolicyOnlyTightens(t *testing.T) {
	tighten := `version = 1
mode = "read-only"
[filesystem]
deny_read = ["secrets/*.pem"]
protected = ["Makefile"]
[environment]
deny = ["CI"]
[limits]
timeout = "5m"
`
	home, ws := testEnv(t, map[string]string{"home/src/proj/.cordon/policy.toml": tighten})
	p, err := load(t, home, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode.Value != ModeReadOnly || p.Mode.From.Layer != LayerWorkspace || p.Mode.From.Line != 2 {
		t.Errorf("mode = %+v", p.Mode)
	}
	if p.Limits.Timeout.Value != 5*time.Minute {
		t.Errorf("timeout = %v", p.Limits.Timeout.Value)
	}
	if last := p.Layers[len(p.Layers)-1]; last.Kind != LayerWorkspace || last.Trusted {
		t.Errorf("workspace layer = %+v, want untrusted", last)
	}

	widen := []struct{ body, key string }{
		{"mode = \"full-access\"\n", "mode"},
		{"[filesystem]\nwritable = [\"/srv\"]\n", "filesystem.writable"},
		{"[filesystem]\nallow_read = [\"~/.ssh\"]\n", "filesystem.allow_read"},
		{"[filesystem]\nunprotect = [\".git/hooks\"]\n", "filesystem.unprotect"},
		{"[filesystem]\nhost_sockets = [\"/run/docker.sock\"]\n", "filesystem.host_sockets"},
		{"[filesystem]\ntrust_workspace_policy = true\n", "filesystem.trust_workspace_policy"},
		{"[environment]\npass = [\"AWS_SECRET_ACCESS_KEY\"]\n", "environment.pass"},
		{"[environment]\nset = { LD_PRELOAD = \"x\" }\n", "environment.set"},
		{"[limits]\ntimeout = \"0s\"\n", "limits.timeout"},
		{"allow_degraded = [\"landlock\"]\n", "allow_degraded"},
	}
	for _, w := range widen {
		t.Run(w.key, func(t *testing.T) {
			home, ws := testEnv(t, map[string]string{
				"home/.config/cordon/policy.toml":   "version = 1\n[limits]\ntimeout = \"1h\"\n",
				"home/src/proj/.cordon/policy.toml": "version = 1\n" + w.body,
			})
			_, err := load(t, home, ws, nil)
			var fe *FileError
			if !errors.As(err, &fe) || fe.Key != w.key || !strings.Contains(err.Error(), "widen") {
				t.Fatalf("err = %v, want a widening error on %s", err, w.key)
			}
			if !strings.HasSuffix(fe.File, ".cordon/policy.toml") || fe.Line < 2 {
				t.Errorf("error not located: %+v", fe)
			}
		})
	}
}

func TestTrustedWorkspacePolicyMayWiden(t *testing.T) {
	home, ws := testEnv(t, map[string]string{
		"home/.config/cordon/policy.toml":   "version = 1\n[filesystem]\ntrust_workspace_policy = true\n",
		"home/src/proj/.cordon/policy.toml": "version = 1\n[filesystem]\nwritable = [\"~/cache\"]\n",
		"home/cache/.keep":                  "",
	})
	p, err := load(t, home, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := Values(p.Filesystem.Writable); len(got) != 1 || got[0] != filepath.Join(home, "cache") {
		t.Errorf("writable = %v", got)
	}
}

func TestExplicitFileInsideWorkspaceIsUntrusted(t *testing.T) {
	home, ws := testEnv(t, map[string]string{"home/src/proj/agent.toml": "version = 1\nmode = \"full-access\"\n"})
	_, err := load(t, home, ws, func(o *Options) { o.ExplicitFile = filepath.Join(ws, "agent.toml") })
	if err == nil || !strings.Contains(err.Error(), "widen") {
		t.Fatalf("err = %v, want widening refused", err)
	}
	outside := filepath.Join(home, "policies", "full.toml")
	os.MkdirAll(filepath.Dir(outside), 0o755)
	os.WriteFile(outside, []byte("version = 1\nmode = \"full-access\"\n"), 0o644)
	p, err := load(t, home, ws, func(o *Options) { o.ExplicitFile = outside })
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode.Value != ModeFullAccess || p.Mode.From.Layer != LayerExplicit {
		t.Errorf("mode = %+v", p.Mode)
	}
}

func TestBroadRootsRefused(t *testing.T) {
	home, ws := testEnv(t, nil)
	for _, root := range []string{"/", home, filepath.Dir(home)} {
		write := func(o *Options) {
			o.NoUserFile = false
			o.UserFile = filepath.Join(home, "u.toml")
			os.WriteFile(o.UserFile, []byte("version = 1\n[filesystem]\nwritable = [\""+root+"\"]\n"), 0o644)
		}
		_, err := load(t, home, ws, write)
		if err == nil || !strings.Contains(err.Error(), "too broad") {
			t.Errorf("writable root %s: err = %v, want too broad", root, err)
		}
		if _, err := load(t, home, ws, func(o *Options) { write(o); o.AllowBroadRoots = true }); err != nil {
			t.Errorf("writable root %s with AllowBroadRoots: %v", root, err)
		}
	}
	// The workspace itself is a writable root.
	if _, err := load(t, home, home, nil); err == nil || !strings.Contains(err.Error(), "workspace") {
		t.Errorf("workspace = home: err = %v", err)
	}
}

func TestConflictsAcrossLayers(t *testing.T) {
	home, ws := testEnv(t, map[string]string{
		"home/.config/cordon/policy.toml": "version = 1\n[filesystem]\nwritable = [\"~/.aws/cli/cache\"]\n",
	})
	_, err := load(t, home, ws, nil)
	if err == nil || !strings.Contains(err.Error(), "inside the denied path") {
		t.Fatalf("err = %v, want conflict with deny_read", err)
	}
	home, ws = testEnv(t, map[string]string{
		"home/.config/cordon/policy.toml": "version = 1\n[filesystem]\nwritable = [\"~/.aws/cli/cache\"]\nallow_read = [\"~/.aws\"]\n",
		"home/.aws/cli/cache/.keep":       "",
	})
	if _, err := load(t, home, ws, nil); err != nil {
		t.Fatalf("allowed path: %v", err)
	}
	home, ws = testEnv(t, map[string]string{
		"home/.config/cordon/policy.toml": "version = 1\n[filesystem]\nunprotect = [\".nothing\"]\n",
	})
	if _, err := load(t, home, ws, nil); err == nil || !strings.Contains(err.Error(), "not a protected path") {
		t.Fatalf("err = %v", err)
	}
}

func TestFlagsOverride(t *testing.T) {
	home, ws := testEnv(t, nil)
	d := 90 * time.Second
	p, err := load(t, home, ws, func(o *Options) {
		o.Flags = Flags{Mode: ModeReadOnly, Timeout: &d, AllowDegraded: []string{"landlock"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode.Value != ModeReadOnly || p.Mode.From.Key != "--mode" || p.Limits.Timeout.Value != d || !p.Accepts(DegradedLandlock) {
		t.Errorf("policy = %+v", p)
	}
	if _, err := load(t, home, ws, func(o *Options) { o.Flags.Mode = "sideways" }); err == nil {
		t.Error("bad --mode accepted")
	}
}

func TestFilterEnv(t *testing.T) {
	home, ws := testEnv(t, map[string]string{
		"home/.config/cordon/policy.toml": `version = 1
[environment]
pass = ["AWS_REGION", "NODE_*", "MY_API_KEY"]
deny = ["NODE_AUTH*"]
set = { CORDON_TEST = "1" }
`,
	})
	p, err := load(t, home, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := p.FilterEnv([]string{
		"PATH=/usr/bin", "HOME=/h", "LC_ALL=C", "GITHUB_TOKEN=ghp_secret", "AWS_SECRET_ACCESS_KEY=x",
		"AWS_REGION=eu-west-1", "NODE_OPTIONS=--x", "NODE_AUTH_TOKEN=npm_secret", "MY_API_KEY=k",
		"OPENAI_API_KEY=sk", "RANDOM_VAR=1", "DATABASE_URL=postgres://u:p@h/db", "SSH_AUTH_SOCK=/tmp/a",
		"LD_PRELOAD=/x.so", "NOEQUALS",
	})
	got := strings.Join(env, " ")
	want := "AWS_REGION=eu-west-1 CORDON_TEST=1 HOME=/h LC_ALL=C MY_API_KEY=k NODE_OPTIONS=--x PATH=/usr/bin"
	if got != want {
		t.Errorf("env:\n got %s\nwant %s", got, want)
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*TOKEN*", "GITHUB_TOKEN", true}, {"*TOKEN*", "TOKENS", true}, {"*_KEY", "MY_KEY", true},
		{"*_KEY", "KEYBOARD", false}, {"AWS_*", "AWS_", true}, {"AWS_*", "XAWS_A", false},
		{"A*B*C", "AxxBxxC", true}, {"A*B*C", "AxxCxxB", false}, {"PATH", "PATH", true}, {"PATH", "PATHS", false},
	}
	for _, c := range cases {
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"512MiB": 512 << 20, "2GiB": 2 << 30, "100MB": 100e6, "7": 7, "1 G": 1 << 30} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5GiB", "GiB", "99999999999TiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

// FuzzGlobMatch checks globMatch against a regular expression made from
// the same pattern.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{{"*TOKEN*", "GITHUB_TOKEN"}, {"A*B*C", "AxxCxxB"}, {"**", ""}, {"A*A", "A"}, {"*AB*B", "ABB"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return // the regexp reads runes, globMatch bytes
		}
		parts := strings.Split(pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		want := regexp.MustCompile(`^(?s:` + strings.Join(parts, ".*") + `)$`).MatchString(s)
		if got := globMatch(pattern, s); got != want {
			t.Errorf("globMatch(%q, %q) = %v, the regexp says %v", pattern, s, got, want)
		}
	})
}
