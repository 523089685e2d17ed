package agents

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsShowTheTestedSnippets: every configuration snippet the tests run
// (testdata/snippets) appears word for word in docs/agents.md, so the
// document never shows a snippet no test ran.
func TestDocsShowTheTestedSnippets(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "agents.md"))
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join("testdata", "snippets"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", "snippets", ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), string(b)) {
			t.Errorf("docs/agents.md does not show testdata/snippets/%s as it is:\n%s", ent.Name(), b)
		}
	}
}
