package audit_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/jsonl"
)

// spec is what docs/audit.md says about the schema.
type spec struct {
	common   []field            // the common fields table
	kinds    []string           // the kinds table
	sections map[string][]field // "### `kind`" -> its fields table
	examples map[string][]string
	chain    []string // lines of the complete example
}

type field struct{ name, typ string }

var (
	rowRE  = regexp.MustCompile("^\\| `([a-z0-9_\\[\\]\\.]+)` \\| ([^|]+?) \\|")
	kindRE = regexp.MustCompile("^### `([a-z_]+)`$")
)

func parseSpec(t *testing.T) spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "audit.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := spec{sections: map[string][]field{}, examples: map[string][]string{}}
	var h2, h3, fence string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if fence != "" {
			switch {
			case line == "```":
				fence = ""
			case fence == "json" && h3 != "":
				s.examples[h3] = append(s.examples[h3], line)
			case fence == "jsonl" && h2 == "A complete example":
				s.chain = append(s.chain, line)
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "```"):
			fence = strings.TrimPrefix(line, "```")
			if fence == "" {
				fence = "text"
			}
		case strings.HasPrefix(line, "## "):
			h2, h3 = strings.TrimPrefix(line, "## "), ""
		case strings.HasPrefix(line, "### "):
			h3 = ""
			if m := kindRE.FindStringSubmatch(line); m != nil && h2 == "Event kinds" {
				h3 = m[1]
			}
		default:
			m := rowRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			f := field{m[1], strings.TrimSpace(m[2])}
			switch {
			case h2 == "Common fields":
				s.common = append(s.common, f)
			case h2 == "Event kinds" && h3 == "":
				s.kinds = append(s.kinds, f.name)
			case h3 != "":
				s.sections[h3] = append(s.sections[h3], f)
			}
		}
	}
	return s
}

// docType is the document's name for a Go field type.
func docType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[audit.Duration]():
		return "duration"
	case t == reflect.TypeFor[time.Time]():
		return "timestamp"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "array of object"
		}
		return "array of " + docType(t.Elem())
	}
	return "unsupported Go type " + t.String()
}

// goFields lists a struct's JSON fields the way the document does, with
// name[].sub rows for arrays of objects.
func goFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, field{name, docType(sf.Type)})
		if sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct {
			for _, sub := range goFields(sf.Type.Elem()) {
				out = append(out, field{name + "[]." + sub.name, sub.typ})
			}
		}
	}
	return out
}

func TestDocumentMatchesTypes(t *testing.T) {
	s := parseSpec(t)

	if got, want := s.common, goFields(reflect.TypeFor[audit.Event]()); !slices.Equal(got, want) {
		t.Errorf("common fields:\n doc  %v\n code %v", got, want)
	}
	commonNames := map[string]bool{}
	for _, f := range s.common {
		commonNames[f.name] = true
	}

	var codeKinds []string
	for _, k := range audit.Kinds() {
		codeKinds = append(codeKinds, string(k))
	}
	if !slices.Equal(s.kinds, codeKinds) {
		t.Errorf("kinds:\n doc  %v\n code %v", s.kinds, codeKinds)
	}
	var sectionKinds []string
	for k := range s.sections {
		sectionKinds = append(sectionKinds, k)
	}
	slices.Sort(sectionKinds)
	sortedCode := slices.Sorted(slices.Values(codeKinds))
	if !slices.Equal(sectionKinds, sortedCode) {
		t.Errorf("kinds with a section:\n doc  %v\n code %v", sectionKinds, sortedCode)
	}

	for _, p := range audit.PayloadTypes {
		kind := string(p.Kind())
		want := goFields(reflect.TypeOf(p))
		if got := s.sections[kind]; !slices.Equal(got, want) {
			t.Errorf("%s fields:\n doc  %v\n code %v", kind, got, want)
		}
		for _, f := range want {
			if commonNames[f.name] {
				t.Errorf("%s: field %q collides with a common field", kind, f.name)
			}
		}
		checkExample(t, kind, s.examples[kind], s.common, want)
	}
}

// checkExample parses a kind's example and checks that it has exactly the
// documented fields (less the chain fields) and that cordon would write it
// byte for byte the same.
func checkExample(t *testing.T, kind string, lines []string, common, fields []field) {
	t.Helper()
	if len(lines) != 1 {
		t.Errorf("%s: want one example line, have %d", kind, len(lines))
		return
	}
	line := []byte(lines[0])
	ev, err := audit.ParseEvent(line)
	if err != nil {
		t.Errorf("%s example: %v", kind, err)
		return
	}
	if string(ev.Kind) != kind {
		t.Errorf("the %s section's example is a %s event", kind, ev.Kind)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range append(slices.Clone(common), fields...) {
		if !strings.Contains(f.name, "[]") && f.name != "seq" && f.name != "prev" && f.name != "hash" {
			want = append(want, f.name)
		}
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s example fields:\n have %v\n want %v", kind, got, want)
	}
	again, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, line) {
		t.Errorf("%s example is not as cordon writes it:\n doc    %s\n cordon %s", kind, line, again)
	}
}

// The complete example is a real chain: it verifies as written.
func TestDocumentChainExampleVerifies(t *testing.T) {
	s := parseSpec(t)
	if len(s.chain) < 8 {
		t.Fatalf("the complete example has %d lines", len(s.chain))
	}
	path := filepath.Join(t.TempDir(), "example.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(s.chain, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := jsonl.Verify([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 || r.Events != len(s.chain) || r.FirstSeq != 1 {
		t.Fatalf("example chain: %d events from seq %d, findings %v", r.Events, r.FirstSeq, r.Findings)
	}
	for i, line := range s.chain {
		if _, err := audit.ParseEvent([]byte(line)); err != nil {
			t.Errorf("example line %d: %v", i+1, err)
		}
	}
}
