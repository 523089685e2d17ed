package policy

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// decodeError turns go-toml's errors into FileErrors with line and key, and
// its type errors, which name Go types ("policy.fileFS.Writable of type
// []string"), into what the file should say ("want a list of strings").
func decodeError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		var errs []error
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			key := strings.Join(e.Key(), ".")
			msg := "unknown key"
			if s := suggestKey(e.Key()); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			errs = append(errs, &FileError{File: path, Line: line, Key: key, Msg: msg,
				Fix: "check the spelling against docs/policy.md; unknown keys are errors so that a typo never silently weakens a policy"})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if want, got, ok := typeMismatch(de.Key(), msg); ok {
			msg = "want " + want
			if got != "" {
				msg += ", got " + got
			}
		}
		e := &FileError{File: path, Line: line, Key: key, Msg: msg}
		if key != "" && strings.HasPrefix(msg, "want ") {
			e.Fix = typeHint
		}
		return e
	}
	return &FileError{File: path, Msg: err.Error()}
}

const typeHint = "see docs/policy.md for what each key takes"

// go-toml's type errors: "cannot decode TOML integer into struct field
// policy.fileFS.Writable of type string", "cannot decode TOML integer into
// string", "cannot store a table in a string". Compiled on first use: only
// a policy file with a type error needs them, and compiling them at start
// cost every cordon process (the sandbox's init too) 65 µs and 44 KB.
var (
	mismatchRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^cannot decode TOML (string|integer|float|boolean|datetime|local datetime|local date|local time|array|inline table|table) into (?:struct field \S+ of type )?(\S+)$`)
	})
	storeRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^cannot store (a table|an array table) in an? `)
	})
)

// typeMismatch reads a go-toml type error about key and returns what the
// key wants and what the file gave, in the file's terms. ok is false for
// other errors.
func typeMismatch(key []string, msg string) (want, got string, ok bool) {
	t, found := typeAt(reflect.TypeOf(fileV1{}), key)
	if m := storeRE().FindStringSubmatch(msg); m != nil {
		if !found {
			return "", "", false
		}
		got := "a table"
		if m[1] == "an array table" {
			got = "a list of tables"
		}
		return describe(t), got, true
	}
	m := mismatchRE().FindStringSubmatch(msg)
	if m == nil {
		if strings.Contains(msg, "cannot decode") {
			// A type error in a form this does not know: never show Go's
			// type names.
			if found {
				return describe(t), "", true
			}
			return "a value of another type", "", true
		}
		return "", "", false
	}
	got = tomlKind(m[1])
	if !found {
		return "a value of another type", got, true
	}
	want = describe(t)
	// When the error names the element type rather than the key's, one
	// item of a list or table is of the wrong type.
	if base := deref(t); (base.Kind() == reflect.Slice || base.Kind() == reflect.Map) && m[2] != base.String() && m[2] != t.String() {
		what := "list"
		if base.Kind() == reflect.Map {
			what = "table"
		}
		got = fmt.Sprintf("a %s holding %s", what, got)
	}
	return want, got, true
}

func tomlKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "integer":
		return "a whole number"
	case "float":
		return "a number with a fraction"
	case "boolean":
		return "true or false"
	case "array":
		return "a list"
	case "inline table", "table":
		return "a table"
	}
	return "a " + k // dates and times
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()

// isText reports whether t decodes from a TOML string through its own
// UnmarshalText (a decision, a mode).
func isText(t reflect.Type) bool {
	return t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// describe says, in the file's terms, what a value of type t looks like.
func describe(t reflect.Type) string {
	t = deref(t)
	if isText(t) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if e := deref(t.Elem()); e.Kind() == reflect.Struct && !isText(e) {
			return "a list of tables"
		}
		return "a list of " + plural(t.Elem())
	case reflect.Map:
		return "a table of " + plural(t.Elem())
	case reflect.Struct:
		return "a table"
	}
	return "a value"
}

func plural(t reflect.Type) string {
	t = deref(t)
	if isText(t) {
		return "strings"
	}
	switch t.Kind() {
	case reflect.String:
		return "strings"
	case reflect.Bool:
		return "true or false values"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "whole numbers"
	case reflect.Float32, reflect.Float64:
		return "numbers"
	case reflect.Slice, reflect.Array:
		return "lists of " + plural(t.Elem())
	case reflect.Struct, reflect.Map:
		return "tables"
	}
	return "values"
}

// typeAt returns the Go type that the dotted key decodes into, starting at
// the file's type. A list of tables ([[credentials]]) stands for its entries;
// a map's keys are free.
func typeAt(t reflect.Type, key []string) (reflect.Type, bool) {
	for _, part := range key {
		t = deref(t)
		for t.Kind() == reflect.Slice && deref(t.Elem()).Kind() == reflect.Struct {
			t = deref(t.Elem())
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldByKey(t, part)
			if !ok {
				return nil, false
			}
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		default:
			return nil, false
		}
	}
	return t, true
}

// tomlName is the key a struct field decodes from.
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || tomlName(f) == "-" {
			continue
		}
		// go-toml matches the tag exactly, else the name in any case.
		if n := tomlName(f); n == key || strings.EqualFold(n, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// suggestKey returns the known key nearest to an unknown one, as it would
// be written in full, or "".
func suggestKey(key []string) string {
	if len(key) == 0 {
		return ""
	}
	parent, ok := typeAt(reflect.TypeOf(fileV1{}), key[:len(key)-1])
	if !ok {
		return ""
	}
	parent = deref(parent)
	for parent.Kind() == reflect.Slice {
		parent = deref(parent.Elem())
	}
	if parent.Kind() != reflect.Struct {
		return ""
	}
	typed := strings.ToLower(key[len(key)-1])
	best, bestDist := "", 3 // at most 2 edits away, or a prefix
	var names []string
	for i := range parent.NumField() {
		f := parent.Field(i)
		if f.IsExported() && tomlName(f) != "-" {
			names = append(names, tomlName(f))
		}
	}
	sort.Strings(names)
	for _, n := range names {
		d := editDistance(typed, n)
		if strings.HasPrefix(n, typed) && len(typed) >= 3 {
			d = min(d, 2)
		}
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return strings.Join(append(append([]string{}, key[:len(key)-1]...), best), ".")
}

// editDistance is the Levenshtein distance between a and b, with a swap of
// two neighbours counted as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// checkTextValues refuses a value that is not a string for a key whose
// type reads strings through UnmarshalText: go-toml stores an integer into
// such a type directly, so `decision = 3` would mean deny without saying so.
func (l *Layer) checkTextValues() error {
	var errs []error
	var p unstable.Parser
	p.Reset(l.data)
	var table []string
	root := reflect.TypeOf(fileV1{})
	bad := func(key []string, want reflect.Type, got string) {
		k := strings.Join(key, ".")
		errs = append(errs, &FileError{File: l.Path, Line: l.line(k), Key: k,
			Msg: fmt.Sprintf("want %s, got %s", describe(want), got), Fix: typeHint})
	}
	var check func(key []string, v *unstable.Node)
	check = func(key []string, v *unstable.Node) {
		t, ok := typeAt(root, key)
		if !ok || v == nil {
			return
		}
		base := deref(t)
		switch {
		case isText(base):
			if v.Kind != unstable.String {
				bad(key, t, nodeKind(v))
			}
		case base.Kind() == reflect.Slice && isText(deref(base.Elem())) && v.Kind == unstable.Array:
			it := v.Children()
			for it.Next() {
				if c := it.Node(); c.Kind != unstable.String {
					bad(key, t, "a list holding "+nodeKind(c))
					break
				}
			}
		case v.Kind == unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				if kv := it.Node(); kv.Kind == unstable.KeyValue {
					check(append(append([]string{}, key...), nodeKey(kv)...), kv.Value())
				}
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = nodeKey(e)
		case unstable.KeyValue:
			check(append(append([]string{}, table...), nodeKey(e)...), e.Value())
		}
	}
	return errors.Join(errs...)
}

func nodeKey(n *unstable.Node) []string {
	var parts []string
	it := n.Key()
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

func nodeKind(n *unstable.Node) string {
	switch n.Kind {
	case unstable.String:
		return "a string"
	case unstable.Integer:
		return "a whole number"
	case unstable.Float:
		return "a number with a fraction"
	case unstable.Bool:
		return "true or false"
	case unstable.Array:
		return "a list"
	case unstable.InlineTable:
		return "a table"
	}
	return "a date or time"
}
