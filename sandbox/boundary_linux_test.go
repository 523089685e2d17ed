package sandbox

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
	"github.com/cordon-sandbox/cordon/policy"
)

// notMarshalled are the fields that boundaryInput may leave out, and why
// no boundary depends on them.
var notMarshalled = map[string]string{
	"policy.Policy.Commands": "command rules judge a command before it is planned (boundaryInput leaves them out)",
	"credscope.Scope.Source": "names the file a credential came from, for messages",
}

// TestBoundaryInputHidesNothing: a warm session plans a boundary again
// only when boundaryInput changes, so every field of the plan's input
// that can reach the planner must be in its JSON. An unexported field or
// one tagged json:"-" would let two different inputs share a boundary.
func TestBoundaryInputHidesNothing(t *testing.T) {
	seen := map[reflect.Type]bool{}
	used := map[string]bool{}
	var walk func(t reflect.Type, path string)
	var problems []string
	walk = func(ty reflect.Type, path string) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(ty.Elem(), path)
			return
		case reflect.Map:
			walk(ty.Key(), path)
			walk(ty.Elem(), path)
			return
		case reflect.Interface, reflect.Func, reflect.Chan:
			problems = append(problems, path+": "+ty.String()+" cannot be compared by its JSON")
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[ty] {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			name := typeName(ty) + "." + f.Name
			if path == "Input" && (f.Name == "Argv" || f.Name == "Env" || f.Name == "Dir" || f.Name == "FS") {
				continue // the command's part, or how it is read
			}
			if _, ok := notMarshalled[name]; ok {
				used[name] = true
				continue
			}
			if !f.IsExported() {
				problems = append(problems, name+" is unexported")
				continue
			}
			if strings.Split(f.Tag.Get("json"), ",")[0] == "-" {
				problems = append(problems, name+` is tagged json:"-"`)
				continue
			}
			walk(f.Type, name)
		}
	}
	walk(reflect.TypeOf(linuxplan.Input{}), "Input")
	for _, p := range problems {
		t.Errorf("%s: boundaryInput would not see it", p)
	}
	for name := range notMarshalled {
		if !used[name] {
			t.Errorf("%s is not in the input any more: drop it from notMarshalled", name)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("walked only %d types: the walk is broken", len(seen))
	}
}

// typeName is a type's package's last element and its name, generic
// arguments left out.
func typeName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	name, _, _ := strings.Cut(t.Name(), "[")
	return pkg + "." + name
}

// BenchmarkBoundaryInput: what a warm command pays to tell whether its
// boundary is the last one's.
func BenchmarkBoundaryInput(b *testing.B) {
	ws := b.TempDir()
	p, err := policy.Load(policy.Options{Workspace: ws, Home: b.TempDir(), NoUserFile: true})
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Policy: p, Workspace: ws, Argv: []string{"true"}}
	in, err := planInput(req, "", "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := boundaryInput(in, &req); err != nil {
			b.Fatal(err)
		}
	}
}
