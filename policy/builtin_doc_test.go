package policy

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docRows returns the first column (and, when kind is true, the second) of
// every table row in the "## heading" section of docs/protected.md, up to
// the next "## " heading.
func docRows(t *testing.T, heading string, row *regexp.Regexp) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "protected.md"))
	if err != nil {
		t.Fatalf("reading the documentation of the built-in lists: %v", err)
	}
	var rows [][]string
	in, found := false, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## "+heading
			found = found || in
			continue
		}
		if !in {
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil {
			rows = append(rows, m[1:])
		}
	}
	if !found {
		t.Fatalf("docs/protected.md has no section %q", "## "+heading)
	}
	return rows
}

func builtinFilesystem(t *testing.T) *fileFS {
	t.Helper()
	l, err := ParseFile(LayerBuiltin, "builtin", builtinTOML)
	if err != nil {
		t.Fatalf("built-in policy: %v", err)
	}
	if l.file.Filesystem == nil {
		t.Fatal("built-in policy has no [filesystem] section")
	}
	return l.file.Filesystem
}

// checkSameEntries reports entries in one list and not the other, and
// duplicates in either.
func checkSameEntries(t *testing.T, what string, builtin, doc []string) {
	t.Helper()
	for _, list := range []struct {
		name    string
		entries []string
	}{{"policy/builtin.toml", builtin}, {"docs/protected.md", doc}} {
		seen := map[string]bool{}
		for _, e := range list.entries {
			if seen[e] {
				t.Errorf("%s lists the %s entry %q twice", list.name, what, e)
			}
			seen[e] = true
		}
	}
	for _, e := range builtin {
		if !slices.Contains(doc, e) {
			t.Errorf("built-in %s entry %q has no row in docs/protected.md", what, e)
		}
	}
	for _, e := range doc {
		if !slices.Contains(builtin, e) {
			t.Errorf("docs/protected.md documents %s entry %q, which policy/builtin.toml does not have", what, e)
		}
	}
}

// TestProtectedDocListsEveryBuiltin keeps docs/protected.md's table and the
// built-in protected list in step, and checks that the Kind column is the
// placeholder kind cordon really uses for the name.
func TestProtectedDocListsEveryBuiltin(t *testing.T) {
	fs := builtinFilesystem(t)
	rows := docRows(t, "Built-in protected paths", regexp.MustCompile("^\\| `([^`]+)` \\| (dir|file) \\|"))
	if len(rows) < 10 {
		t.Fatalf("found only %d rows in the protected table; has its format changed?", len(rows))
	}
	var doc []string
	for _, r := range rows {
		doc = append(doc, r[0])
		wantDir := r[1] == "dir"
		if got := IsDirName(path.Base(r[0])); got != wantDir {
			t.Errorf("docs/protected.md says %q is a %s, but IsDirName(%q) = %v", r[0], r[1], path.Base(r[0]), got)
		}
	}
	checkSameEntries(t, "protected", fs.Protected, doc)
}

// TestDenyDocListsEveryBuiltin does the same for the deny list, and checks
// that the allow_read exceptions are named there too.
func TestDenyDocListsEveryBuiltin(t *testing.T) {
	fs := builtinFilesystem(t)
	rows := docRows(t, "What the built-in deny list covers and why", regexp.MustCompile("^\\| `([^`]+)` \\| [^|]*[^ |][^|]* \\|"))
	if len(rows) < 10 {
		t.Fatalf("found only %d rows in the deny tables; has their format changed?", len(rows))
	}
	var doc []string
	for _, r := range rows {
		doc = append(doc, r[0])
	}
	checkSameEntries(t, "deny_read", fs.DenyRead, doc)
	data, _ := os.ReadFile(filepath.Join("..", "docs", "protected.md"))
	for _, a := range fs.AllowRead {
		if !bytes.Contains(data, []byte("`"+a+"`")) {
			t.Errorf("docs/protected.md does not mention the built-in allow_read exception %q", a)
		}
	}
}

// TestBuiltinDenyStaysOutOfPrivateTrees: a mask is a mount, and the sandbox
// replaces /tmp, /dev and /proc and hides /run, so a mask there would have
// no target. cordon's own cache and the workspace must stay readable.
func TestBuiltinDenyStaysOutOfPrivateTrees(t *testing.T) {
	fs := builtinFilesystem(t)
	home := "/home/u"
	for _, d := range fs.DenyRead {
		if d == "" || d == "~" || d == "/" || strings.Contains(d, "..") {
			t.Errorf("deny_read entry %q is too broad or not clean", d)
			continue
		}
		if _, err := filepath.Match(d, ""); err != nil {
			t.Errorf("deny_read entry %q is not a valid pattern: %v", d, err)
		}
		p := expandPath(d, home)
		if !filepath.IsAbs(p) {
			if strings.HasPrefix(d, "~") {
				t.Errorf("deny_read entry %q: write ~/ paths as ~/name", d)
			}
			continue // a workspace pattern
		}
		for _, private := range []string{"/tmp", "/run", "/var/run", "/dev", "/proc", filepath.Join(home, ".cache", "cordon")} {
			if insideDir(p, private) || insideDir(private, p) {
				t.Errorf("deny_read entry %q (%s) touches %s", d, p, private)
			}
		}
		if insideDir(home, p) {
			t.Errorf("deny_read entry %q would hide the whole home directory", d)
		}
	}
	for _, pr := range fs.Protected {
		if strings.HasPrefix(pr, "/") {
			t.Errorf("protected entry %q: built-in entries are relative or ~/ paths", pr)
		}
	}
}

func TestIsDirName(t *testing.T) {
	for name, dir := range map[string]bool{
		".git":                    true,
		"hooks":                   true,
		".vscode":                 true,
		".agents":                 true,
		".husky":                  true,
		".lefthook-local":         true,
		"User":                    true,
		"Code - Insiders":         true,
		"config":                  false,
		".mcp.json":               false,
		"opencode.json":           false,
		".aider.conf.yml":         false,
		".pre-commit-config.yaml": false,
		"lefthook.yml":            false,
		"mise.toml":               false,
		".claude.json":            false,
		".envrc":                  false,
		".roomodes":               false,
		".crushrc":                false,
		"crushrc":                 false,
		".bashrc":                 false,
		".profile":                false,
		".zshenv":                 false,
		".gitconfig":              false,
		"":                        false,
	} {
		if got := IsDirName(name); got != dir {
			t.Errorf("IsDirName(%q) = %v, want %v", name, got, dir)
		}
	}
}
