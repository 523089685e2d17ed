package policy

import (
	"errors"
	"strings"
	"testing"
)

// fileErrors returns the FileErrors joined in err, in order.
func fileErrors(t *testing.T, err error) []*FileError {
	t.Helper()
	var out []*FileError
	for _, e := range leaves(err) {
		var fe *FileError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a FileError", e)
		}
		out = append(out, fe)
	}
	return out
}

// TestSectionErrorsPointAtTheKeysLine: problems found by the [network] and
// [audit] sections' own checks name the key and its line (an entry of a
// list spread over lines: the entry's line), not the section's table.
func TestSectionErrorsPointAtTheKeysLine(t *testing.T) {
	const network = `version = 1

[network]
mode = "proxy"

allow = [
  "pypi.org",
  "*",
]
unlisted = "maybe"
`
	_, err := ParseFile(LayerUser, "p.toml", []byte(network))
	got := fileErrors(t, err)
	want := []struct {
		line int
		key  string
	}{{8, "network.allow[1]"}, {10, "network.unlisted"}}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(got), len(want), err)
	}
	for i, w := range want {
		if got[i].Line != w.line || got[i].Key != w.key || got[i].Hint() == "" {
			t.Errorf("error %d = line %d key %q hint %q, want line %d key %q and a hint", i, got[i].Line, got[i].Key, got[i].Hint(), w.line, w.key)
		}
		if strings.Contains(got[i].Msg, w.key) {
			t.Errorf("error %d repeats its key in the message: %q", i, got[i].Msg)
		}
	}

	for _, c := range []struct {
		file, key string
		line      int
	}{
		{"version = 1\n\n[audit]\nfile.enabled = true\n\nfile.path = \"rel\"\n", "audit.file.path", 6},
		{"version = 1\n[audit.file]\nenabled = true\n\nmax_size_mb = 0\n", "audit.file.max_size_mb", 5},
		{"version = 1\n[audit]\notlp = { enabled = false, required = true }\n", "audit.otlp.required", 3},
	} {
		home, ws := testEnv(t, map[string]string{"home/.config/cordon/policy.toml": c.file})
		_, err := load(t, home, ws, nil)
		if err == nil {
			t.Errorf("%q: no error", c.file)
			continue
		}
		got := fileErrors(t, err)
		if len(got) != 1 || got[0].Key != c.key || got[0].Line != c.line || !strings.HasSuffix(got[0].File, "policy.toml") {
			t.Errorf("%q: %v; want one error at line %d, key %s", c.file, err, c.line, c.key)
		}
	}
}

// TestWorkspaceNetworkWideningPointsAtTheKey: a workspace file that widens
// [network] is refused at each widening key's line.
func TestWorkspaceNetworkWideningPointsAtTheKey(t *testing.T) {
	home, ws := testEnv(t, map[string]string{
		"home/src/proj/.cordon/policy.toml": "version = 1\n\n[network]\nmode = \"proxy\"\nallow = [\"example.com\"]\n",
	})
	_, err := load(t, home, ws, nil)
	if err == nil {
		t.Fatal("a widening workspace file was accepted")
	}
	got := fileErrors(t, err)
	if len(got) != 2 || got[0].Key != "network.mode" || got[0].Line != 4 || got[1].Key != "network.allow" || got[1].Line != 5 {
		t.Errorf("errors = %v; want network.mode at line 4 and network.allow at line 5", err)
	}
	for _, e := range got {
		if e.Hint() == "" {
			t.Errorf("%v has no hint", e)
		}
	}
}

// TestValidateChecksWhatRunChecks: Validate refuses each file that Load (and
// so cordon run) refuses, in the role run gives it, and accepts the same
// file in a role where run accepts it.
func TestValidateChecksWhatRunChecks(t *testing.T) {
	home, ws := testEnv(t, map[string]string{
		"home/src/proj/.cordon/policy.toml": "version = 1\n[filesystem]\nwritable = [\"/\"]\n",
		"home/src/proj/ci.toml":             "version = 1\nmode = \"full-access\"\n",
		"home/missing-root.toml":            "version = 1\n[filesystem]\nwritable = [\"~/no-such-dir\"]\n",
		"home/broad.toml":                   "version = 1\n[filesystem]\nwritable = [\"~\"]\n",
		"home/ok.toml":                      "version = 1\n[filesystem]\nwritable = [\"~/src\"]\n",
	})
	o := Options{Home: home}
	for _, c := range []struct {
		file string
		mod  func(*Options)
		want string // "" for valid
	}{
		{"home/missing-root.toml", nil, "filesystem.writable: writable root " + home + "/no-such-dir does not exist"},
		{"home/broad.toml", nil, "too broad"},
		{"home/broad.toml", func(o *Options) { o.AllowBroadRoots = true }, ""},
		{"home/ok.toml", nil, ""},
		// The workspace's own file may only tighten.
		{"home/src/proj/.cordon/policy.toml", nil, "would widen the policy"},
		// A --policy file inside the workspace is untrusted; as the user's
		// file it is fine.
		{"home/src/proj/ci.toml", func(o *Options) { o.Workspace = ws }, "would widen the policy"},
		{"home/src/proj/ci.toml", nil, ""},
	} {
		o := o
		if c.mod != nil {
			c.mod(&o)
		}
		path := home + "/../" + c.file
		err := Validate(path, o)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.file, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err = %v, want %q", c.file, err, c.want)
		}
	}
	// Load refuses the missing root too, at its line.
	_, err := load(t, home, home+"/src", func(o *Options) { o.NoUserFile = false; o.UserFile = home + "/missing-root.toml" })
	if err == nil || !strings.Contains(err.Error(), "missing-root.toml:3: filesystem.writable") {
		t.Errorf("Load: err = %v", err)
	}
}

// TestRequestRuleErrorsPointAtTheirLine: each [[network.requests]] entry is
// network.requests[i], and a problem in one names that entry's key and line;
// a workspace's allow rule is refused at its line, its ask rule merged.
func TestRequestRuleErrorsPointAtTheirLine(t *testing.T) {
	const file = `version = 1

[network]
mode = "proxy"

[[network.requests]]
host = "api.github.com"
decision = "allow"

[[network.requests]]
host = "api.github.com"
path = "repos"
decision = "deny"
`
	_, err := ParseFile(LayerUser, "p.toml", []byte(file))
	got := fileErrors(t, err)
	if len(got) != 1 || got[0].Key != "network.requests[1].path" || got[0].Line != 12 {
		t.Fatalf("errors = %v; want network.requests[1].path at line 12", err)
	}

	home, ws := testEnv(t, map[string]string{
		"home/.config/cordon/policy.toml": "version = 1\n[network]\nmode = \"proxy\"\nallow = [\"api.github.com\"]\n" +
			"[[network.requests]]\nhost = \"api.github.com\"\nmethods = [\"GET\"]\ndecision = \"allow\"\n",
		"home/src/proj/.cordon/policy.toml": "version = 1\n\n[[network.requests]]\nhost = \"api.github.com\"\ndecision = \"ask\"\n\n" +
			"[[network.requests]]\nhost = \"api.github.com\"\nmethods = [\"DELETE\"]\ndecision = \"allow\"\n",
	})
	_, err = load(t, home, ws, nil)
	got = fileErrors(t, err)
	if len(got) != 1 || got[0].Key != "network.requests[1].decision" || got[0].Line != 10 || got[0].Hint() == "" {
		t.Fatalf("errors = %v; want network.requests[1].decision at line 10 of the workspace file", err)
	}

	home, ws = testEnv(t, map[string]string{
		"home/.config/cordon/policy.toml": "version = 1\n[network]\nmode = \"proxy\"\nallow = [\"api.github.com\"]\n" +
			"[[network.requests]]\nhost = \"api.github.com\"\nmethods = [\"GET\"]\ndecision = \"allow\"\n",
		"home/src/proj/.cordon/policy.toml": "version = 1\n[[network.requests]]\nname = \"ws\"\nhost = \"api.github.com\"\ndecision = \"deny\"\n",
	})
	p, err := load(t, home, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs := p.Network.Value.Requests
	if len(reqs) != 2 || reqs[0].Name != "ws" || reqs[1].Decision != "allow" {
		t.Errorf("merged request rules = %+v; want the workspace's deny before the user's allow", reqs)
	}
}
