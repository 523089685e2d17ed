package cli

import (
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fileRef is a name of a Go or Markdown file in prose: policy/merge.go,
// docs/cli.md, ../../CHANGELOG.md, arch_linux_*_test.go.
var fileRef = regexp.MustCompile(`(^|[^\w/.:~*-])((?:\.\.?/)*[\w*][\w*./-]*\.(?:go|md))\b`)

// TestDocsNameOnlyFilesThatExist: every Go or Markdown file that README.md
// or docs/*.md names exists in the repository: as a path from the root or
// from the document's directory, or, for a bare name, anywhere in it (a
// glob such as arch_linux_*_test.go must match a file). Names inside URLs,
// and in the text of links to URLs (a source cited from another project),
// are not the repository's; neither are the instruction files of other
// tools that the docs discuss (otherProjects).
func TestDocsNameOnlyFilesThatExist(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	all := repoFiles(t, root) // every file, relative to root
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, filepath.Join(root, "README.md"))
	url := regexp.MustCompile(`\b[a-z]+://\S+`)
	urlLink := regexp.MustCompile(`\[[^\]]*\]\([a-z]+://[^)]*\)`)
	checked := 0
	for _, doc := range docs {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		relDoc, _ := filepath.Rel(root, doc)
		for i, line := range strings.Split(string(data), "\n") {
			line = urlLink.ReplaceAllString(line, "")
			line = url.ReplaceAllString(line, "")
			for _, m := range fileRef.FindAllStringSubmatch(line, -1) {
				ref := m[2]
				if otherProjects[ref] {
					continue
				}
				checked++
				fromDoc := filepath.Join(filepath.Dir(relDoc), ref)
				if exists(root, ref) || exists(root, fromDoc) || matchesAny(all, ref, fromDoc) {
					continue
				}
				t.Errorf("%s:%d names %s, which does not exist in the repository", relDoc, i+1, ref)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d file names found in the docs; the pattern misses them", checked)
	}
}

// otherProjects are files of other projects that the docs name as such
// (instruction files that coding agents read, docs/protected.md).
var otherProjects = map[string]bool{"AGENTS.md": true, "CLAUDE.md": true, "GEMINI.md": true, "QWEN.md": true}

// matchesAny reports whether a path (or, for a bare name, a base name)
// matches a file of the repository, with glob patterns allowed.
func matchesAny(all []string, ref, fromDoc string) bool {
	bare := !strings.Contains(ref, "/")
	for _, f := range all {
		if ok, _ := filepath.Match(filepath.Clean(ref), f); ok {
			return true
		}
		if ok, _ := filepath.Match(fromDoc, f); ok {
			return true
		}
		if ok, _ := filepath.Match(ref, filepath.Base(f)); ok && bare {
			return true
		}
	}
	return false
}

// TestReadmeLayoutNamesEveryPackageDir: the README's layout names every
// top-level directory and every directory under internal/.
func TestReadmeLayoutNamesEveryPackageDir(t *testing.T) {
	root := filepath.Join("..", "..")
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "## Layout")
	if i < 0 {
		t.Fatal("README.md has no Layout section")
	}
	layout := text[i:]
	if j := strings.Index(layout[3:], "\n## "); j >= 0 {
		layout = layout[:j+3]
	}
	var dirs []string
	for _, pattern := range []string{"*", "internal/*"} {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, d := range m {
			rel, _ := filepath.Rel(root, d)
			if st, err := os.Stat(d); err != nil || !st.IsDir() || strings.HasPrefix(filepath.Base(rel), ".") || rel == "internal" {
				continue
			}
			dirs = append(dirs, rel)
		}
	}
	for _, d := range dirs {
		if !strings.Contains(layout, d+"/") && !strings.Contains(layout, d+" ") {
			t.Errorf("README.md's layout does not name %s/", d)
		}
	}
}

// TestCommentsNameOnlyFilesThatExist: every Go or Markdown file that a
// comment in the repository's Go code names exists, by the rules of
// TestDocsNameOnlyFilesThatExist, with the file's directory as the
// document's. Names that are not the repository's files (another project's,
// an example) are listed in notRepoFiles.
func TestCommentsNameOnlyFilesThatExist(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	all := repoFiles(t, root)
	url := regexp.MustCompile(`\b[a-z]+://\S+`)
	checked := 0
	fset := token.NewFileSet()
	for _, rel := range all {
		if !strings.HasSuffix(rel, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		for _, group := range f.Comments {
			for _, c := range group.List {
				line := fset.Position(c.Pos()).Line
				for _, text := range strings.Split(c.Text, "\n") {
					text = url.ReplaceAllString(text, "")
					for _, m := range fileRef.FindAllStringSubmatch(text, -1) {
						ref := m[2]
						if otherProjects[ref] || notRepoFiles[ref] != "" {
							continue
						}
						checked++
						fromFile := filepath.Join(filepath.Dir(rel), ref)
						if !exists(root, ref) && !exists(root, fromFile) && !matchesAny(all, ref, fromFile) {
							t.Errorf("%s:%d: a comment names %s, which does not exist in the repository", rel, line, ref)
						}
					}
					line++
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d file names found in comments; the pattern misses them", checked)
	}
}

// notRepoFiles are names in comments that are not the repository's files,
// with what they are: another project's file, an example word.
var notRepoFiles = map[string]string{
	"sandbox/mac/seatbelt_sandbox_design.md": "Chromium's (internal/plan/macplan)",
	"src/*.go":                               "a shell word that pathname expansion expands (internal/cmdpolicy)",
}

// TestNoBuildOutputTracked: git tracks no compiled program (a test binary
// left by go test -c, a built cordon): they are large, go stale at once, and
// a reader cannot review them.
func TestNoBuildOutputTracked(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	n := 0
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" {
			continue
		}
		f, err := os.Open(filepath.Join(root, rel))
		if err != nil {
			continue // deleted in the work tree
		}
		head := make([]byte, 4)
		k, _ := f.Read(head)
		f.Close()
		n++
		for _, magic := range executableMagic {
			if bytes.HasPrefix(head[:k], magic) {
				t.Errorf("git tracks %s, a compiled program; remove it (git rm --cached) and let .gitignore keep it out", rel)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d tracked files read; the listing misses them", n)
	}
}

// executableMagic are the first bytes of ELF, PE (MZ) and Mach-O programs.
var executableMagic = [][]byte{
	{0x7f, 'E', 'L', 'F'},
	{'M', 'Z'},
	{0xcf, 0xfa, 0xed, 0xfe}, {0xce, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe},
}

// repoFiles lists every file of the repository, relative to root.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	var all []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, p)
		all = append(all, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func exists(root, rel string) bool {
	_, err := os.Stat(filepath.Join(root, rel))
	return err == nil
}
