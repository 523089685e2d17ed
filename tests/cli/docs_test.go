package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fileRef is a name of a Go or Markdown file in prose: policy/merge.go,
// docs/cli.md, ../CHANGELOG.md, arch_linux_*_test.go.
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
	var all []string // every file, relative to root
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
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
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(root, rel))
		return err == nil
	}
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
				if exists(ref) || exists(fromDoc) || matchesAny(all, ref, fromDoc) {
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
