package otlp

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The sink is linked into every cordon binary, whose start-up cost every
// sandboxed command pays: it stays on the standard library and cordon's own
// packages. (The tests may use the collector's decoders.)
func TestImportsOnlyTheStandardLibraryAndCordon(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !strings.HasPrefix(path, "github.com/cordon-sandbox/cordon/") {
				t.Errorf("%s imports %s; package otlp may import only the standard library and cordon's packages", name, path)
			}
		}
	}
}
