package agenthook

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hookCmd = `'/usr/local/bin/cordon' hook claude-code || exit 2`

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out.String()
}

func TestInstallUninstall(t *testing.T) {
	for name, c := range map[string]struct {
		before      string
		afterCompat string // compact JSON after install
	}{
		"missing file": {"", `{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"'/usr/local/bin/cordon' hook claude-code || exit 2"}]}]}}`},
		"empty object": {"{}", `{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"'/usr/local/bin/cordon' hook claude-code || exit 2"}]}]}}`},
		"other hooks": {`{"a":1,"hooks":{"Stop":[],"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"log.sh"}]}]},"z":[1]}`,
			`{"a":1,"hooks":{"Stop":[],"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"log.sh"}]},{"matcher":"Bash","hooks":[{"type":"command","command":"'/usr/local/bin/cordon' hook claude-code || exit 2"}]}]},"z":[1]}`},
		"old cordon entry updated in place": {`{"hooks":{"PreToolUse":[{"matcher":"*","hooks":[{"type":"command","command":"/old/cordon hook claude-code","timeout":9}]}]}}`,
			`{"hooks":{"PreToolUse":[{"matcher":"*","hooks":[{"type":"command","command":"'/usr/local/bin/cordon' hook claude-code || exit 2","timeout":9}]}]}}`},
		"duplicates removed": {`{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"cordon hook claude-code"},{"type":"command","command":"x"}]},{"matcher":"Bash","hooks":[{"type":"command","command":"/b/cordon hook claude-code"}]}]}}`,
			`{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"'/usr/local/bin/cordon' hook claude-code || exit 2"},{"type":"command","command":"x"}]}]}}`},
		"entry under a matcher that misses Bash": {`{"hooks":{"PreToolUse":[{"matcher":"Write","hooks":[{"type":"command","command":"cordon hook claude-code"}]}]}}`,
			`{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"'/usr/local/bin/cordon' hook claude-code || exit 2"}]}]}}`},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "sub", "settings.json")
			if c.before != "" {
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte(c.before), 0o644)
			}
			res, err := InstallClaudeCode(p, hookCmd)
			if err != nil || !res.Changed {
				t.Fatalf("install: %+v %v", res, err)
			}
			after, _ := os.ReadFile(p)
			if got := compactJSON(t, after); got != c.afterCompat {
				t.Errorf("after install:\n got %s\nwant %s", got, c.afterCompat)
			}
			res, err = InstallClaudeCode(p, hookCmd)
			if err != nil || res.Changed {
				t.Errorf("second install: %+v %v", res, err)
			}
			if again, _ := os.ReadFile(p); !bytes.Equal(again, after) {
				t.Errorf("second install rewrote the file")
			}
			if _, err := UninstallClaudeCode(p); err != nil {
				t.Fatal(err)
			}
			restored, _ := os.ReadFile(p)
			if strings.Contains(string(restored), "hook claude-code") {
				t.Errorf("uninstall left a cordon entry: %s", restored)
			}
			if name == "other hooks" || name == "empty object" {
				if compactJSON(t, restored) != compactJSON(t, []byte(c.before)) {
					t.Errorf("uninstall did not restore:\n got %s\nwant %s", restored, c.before)
				}
			}
		})
	}
}

func TestInstallRefusesWhatItCannotRead(t *testing.T) {
	for name, content := range map[string]string{
		"not json":          "{ nope",
		"not an object":     "[]",
		"hooks not object":  `{"hooks":[]}`,
		"PreToolUse string": `{"hooks":{"PreToolUse":"x"}}`,
		"group not object":  `{"hooks":{"PreToolUse":[1]}}`,
		"handlers string":   `{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":"x"}]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "settings.json")
			os.WriteFile(p, []byte(content), 0o644)
			if _, err := InstallClaudeCode(p, hookCmd); err == nil {
				t.Errorf("install accepted %s", content)
			}
			if _, err := UninstallClaudeCode(p); err == nil {
				t.Errorf("uninstall accepted %s", content)
			}
			if b, _ := os.ReadFile(p); string(b) != content {
				t.Errorf("file changed to %q", b)
			}
		})
	}
}

func TestInstallKeepsModeSymlinkAndNotes(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "claude.json")
	os.MkdirAll(filepath.Dir(real), 0o755)
	os.WriteFile(real, []byte(`{"disableAllHooks": true, "env": {"A": "x && y <z>"}}`), 0o600)
	link := filepath.Join(dir, "settings.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	res, err := InstallClaudeCode(link, hookCmd)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "disableAllHooks") {
		t.Errorf("notes: %v", res.Notes)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced")
	}
	b, _ := os.ReadFile(real)
	if !strings.Contains(string(b), "hook claude-code") || !strings.Contains(string(b), `"x && y <z>"`) {
		t.Errorf("target: %s", b)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func TestUninstallMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "none", "settings.json")
	res, err := UninstallClaudeCode(p)
	if err != nil || res.Changed {
		t.Errorf("%+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Dir(p)); err == nil {
		t.Errorf("uninstall created a directory")
	}
}

func TestMatcherCoversBash(t *testing.T) {
	for m, want := range map[string]bool{
		"": true, "*": true, "Bash": true, "Edit|Bash": true, "Bash|Write": true, "Write": false, "Bashful": false,
		"Ba.*": true, "^B": true, "mcp__.*": false, "Edit|Write": false, "[": false,
	} {
		g := newObject()
		g.set("matcher", mustRaw(m))
		if got := matcherCoversBash(g); got != want {
			t.Errorf("matcher %q: %v, want %v", m, got, want)
		}
	}
	if !matcherCoversBash(newObject()) {
		t.Errorf("no matcher matches every tool")
	}
}

func TestIsCordonHook(t *testing.T) {
	for cmd, want := range map[string]bool{
		hookCmd: true,
		ClaudeCodeHookCommand("/opt/a b/cordon", "--policy", "/p/it's.toml"): true,
		"cordon hook claude-code":                         true,
		"/usr/bin/cordon hook claude-code --workspace /x": true,
		"cordon run -- ls":                                false,
		"notcordon hook claude-code":                      false,
		"echo cordon hook claude-code":                    false,
		"jq . && cordon hook claude-code":                 false,
		"/usr/bin/cordon-sh hook claude-code":             false,
	} {
		if got := isCordonHook(cmd); got != want {
			t.Errorf("isCordonHook(%q) = %v", cmd, got)
		}
	}
}
