package macplan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsListEveryService: docs/macos.md names every Mach service the
// profile allows or refuses, so none is added without its reason there.
func TestDocsListEveryService(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "macos.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var names []string
	for _, s := range AllowedServices {
		names = append(names, s.Name)
	}
	for _, s := range FullNetworkServices {
		names = append(names, s.Name)
	}
	for _, c := range DeniedClasses {
		names = append(names, c.Services...)
		if !strings.Contains(doc, "| "+c.Class+" |") {
			t.Errorf("docs/macos.md has no row for the refused class %q", c.Class)
		}
	}
	for _, n := range names {
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/macos.md does not name the service %s", n)
		}
	}
	for _, want := range []string{"Not yet verified on a real Mac", "scripts/macos/verify.sh", "macos-no-memory-limit"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/macos.md does not say %q", want)
		}
	}
}
