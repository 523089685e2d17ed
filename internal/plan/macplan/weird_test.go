package macplan

import (
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
)

// A workspace whose name holds everything that could end a string or a
// form in SBPL: the profile it gets is the same text, byte for byte, as a
// plain workspace's, its parameters carry the name unchanged, and the
// evaluator, reading the profile back, answers the same questions the same
// way.
func TestHostilePathsCannotChangeTheProfile(t *testing.T) {
	weirdNames := []string{
		`we"ird) (allow default) ("`,
		"new\nline (allow file-write* (subpath \"/\"))",
		`back\slash\" (param "ROOT_0")`,
		`semi;colon #"regex" ))))`,
	}
	plain := compile(t, setup{})
	for _, name := range weirdNames {
		dir := "/Users/ada/src/" + name
		f := newMacFS()
		// The same host as macHost, with the project under the odd name.
		for p, n := range macHost().nodes {
			if unixplan.Under(p, ws) {
				p = dir + strings.TrimPrefix(p, ws)
			}
			f.put(p, n)
		}
		f.dir("/Users/ada/src")
		c := compile(t, setup{fs: f, ws: dir})
		if c.plan.Profile != plain.plan.Profile {
			t.Errorf("workspace %q changes the profile's text", name)
			continue
		}
		found := false
		for _, p := range c.plan.Params {
			if strings.HasPrefix(p.Value, dir) {
				found = true
			}
			if p.Key == "ROOT_0" && p.Value != dir {
				t.Errorf("ROOT_0 = %q, want the name unchanged", p.Value)
			}
		}
		if !found {
			t.Errorf("no parameter carries %q", name)
		}
		if strings.Contains(c.plan.Profile, "/Users/") {
			t.Errorf("a user path appears in the profile's text")
		}
		for _, p := range []probeCase{
			{"write inside the odd workspace", create(dir + "/out.txt"), true},
			{"its .env", read(dir + "/.env"), false},
			{"its hooks", create(dir + "/.git/hooks/pre-commit"), false},
			{"next to it", create("/Users/ada/src/we/x"), false},
			{"outside", create(home + "/x"), false},
		} {
			if got := c.may(t, p.q); got != p.allow {
				t.Errorf("%q: %s: allowed = %v, want %v", name, p.name, got, p.allow)
			}
		}
	}
}

// TestReaderRejectsMalformedProfiles: the reader and checker the tests
// rely on do refuse what they must.
func TestReaderRejectsMalformedProfiles(t *testing.T) {
	head := "(version 1)\n(deny default)\n"
	for name, src := range map[string]string{
		"unbalanced open":     head + "(allow file-read*",
		"unbalanced close":    head + "(allow file-read*))",
		"unknown operation":   head + "(allow file-read-everything)",
		"unknown filter":      head + "(allow file-read* (regex-path \"/\"))",
		"regex literal":       head + "(allow file-read* (regex #\"^/\"))",
		"bad escape":          head + "(allow mach-lookup (global-name \"a\\nb\"))",
		"newline in a string": head + "(allow mach-lookup (global-name \"a\nb\"))",
		"no deny default":     "(version 1)\n(allow default)\n",
		"bare string rule":    head + "\"allow\"",
		"remote host":         head + "(allow network-outbound (remote ip \"10.0.0.1:80\"))",
		"param not a string":  head + "(allow file-read* (literal (param ROOT)))",
		"target":              head + "(allow signal (target others))",
	} {
		forms, err := readAll(src)
		if err == nil {
			_, err = check(forms)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// And a parameter the plan does not pass is caught.
	forms, _ := readAll(head + "(allow file-read* (literal (param \"GHOST\")))")
	pp, err := check(forms)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newEvaluator(pp, nil); err == nil {
		t.Error("an undefined parameter is accepted")
	}
}
