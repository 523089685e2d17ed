package policy

import (
	"regexp"
	"strings"
	"testing"
)

// TestTypeErrorsSpeakTheFilesLanguage: a value of the wrong type is reported
// with the file's line and key and what the key takes, never with Go's type
// names.
func TestTypeErrorsSpeakTheFilesLanguage(t *testing.T) {
	goType := regexp.MustCompile(`struct field|\bof type\b|\[\]string|policy\.|netproxy\.|audit\.[A-Z]|cmdpolicy\.|credentials\.[A-Z]|map\[`)
	for _, c := range []struct{ file, want string }{
		{"version = 1\n[filesystem]\nwritable = \"/srv\"\n", "p.toml:3: filesystem.writable: want a list of strings, got a string"},
		{"version = 1\n[filesystem]\nwritable = [\"/a\",\n  2]\n", "p.toml:4: filesystem.writable: want a list of strings, got a list holding a whole number"},
		{"version = 1\n[filesystem]\ntrust_workspace_policy = \"yes\"\n", "p.toml:3: filesystem.trust_workspace_policy: want true or false, got a string"},
		{"version = \"1\"\n", "p.toml:1: version: want a whole number, got a string"},
		{"version = 1\nfilesystem = 3\n", "p.toml:2: filesystem: want a table, got a whole number"},
		{"version = 1\n[[filesystem]]\n", "p.toml:2: filesystem: want a table, got a list of tables"},
		{"version = 1\n[environment.set]\nA = 1\n", "p.toml:3: environment.set.A: want a string, got a whole number"},
		{"version = 1\n[environment]\nset = { A = 1 }\n", "p.toml:3: environment.set: want a table of strings, got a table holding a whole number"},
		{"version = 1\n[network]\nmode = 3\n", "p.toml:3: network.mode: want a string, got a whole number"},
		{"version = 1\n\n[audit.file]\npath = 3\n", "p.toml:4: audit.file.path: want a string, got a whole number"},
		{"version = 1\n[audit.otlp]\nheaders = 3\n", "p.toml:3: audit.otlp.headers: want a table of strings, got a whole number"},
		{"version = 1\n[[credentials]]\nname = 3\n", "p.toml:3: credentials.name: want a string, got a whole number"},
		{"version = 1\n[commands]\nrule = 3\n", "p.toml:3: commands.rule: want a list of tables, got a whole number"},
		// go-toml stores an integer into a type that reads strings: 3
		// would silently be deny.
		{"version = 1\n[commands]\ndefault = 3\n", "p.toml:3: commands.default: want a string, got a whole number"},
		{"version = 1\n\n[[commands.rule]]\nname = \"x\"\nmatch = [\"rm\"]\ndecision = 1\n", "p.toml:6: commands.rule.decision: want a string, got a whole number"},
		{"version = 1\n[commands]\nbuiltin = { \"git/push\" = 3 }\n", "commands.builtin.git/push: want a string, got a whole number"},
		{"version = 1\n[[credentials]]\nname = \"t\"\nenv = \"T\"\nfrom_env = \"T\"\ndecision = 2\n", "p.toml:6: credentials.decision: want a string, got a whole number"},
	} {
		_, err := ParseFile(LayerUser, "p.toml", []byte(c.file))
		if err == nil {
			t.Errorf("%q: no error, want %q", c.file, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.file, err, c.want)
		}
		if goType.MatchString(err.Error()) {
			t.Errorf("%q: the error names Go types: %v", c.file, err)
		}
	}
}

func TestUnknownKeySuggestsTheNearestKnownOne(t *testing.T) {
	for file, want := range map[string]string{
		"version = 1\nmod = \"read-only\"\n":                  "p.toml:2: mod: unknown key (did you mean mode?)",
		"version = 1\n[filesystem]\nwriteable = []\n":         "filesystem.writeable: unknown key (did you mean filesystem.writable?)",
		"version = 1\n[filesystem]\ndeny_raed = []\n":         "(did you mean filesystem.deny_read?)",
		"version = 1\n[network]\nallwo = []\n":                "(did you mean network.allow?)",
		"version = 1\n[audit.file]\nenable = true\n":          "(did you mean audit.file.enabled?)",
		"version = 1\n[[commands.rule]]\nmatches = [\"x\"]\n": "(did you mean commands.rule.match?)",
		"version = 1\n[filesystem]\ncompletely_different = 1": "filesystem.completely_different: unknown key\n",
	} {
		_, err := ParseFile(LayerUser, "p.toml", []byte(file))
		if err == nil || !strings.Contains(err.Error()+"\n", want) {
			t.Errorf("%q: err = %v, want %q", file, err, want)
		}
	}
}
