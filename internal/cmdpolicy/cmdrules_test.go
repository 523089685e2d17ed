package cmdpolicy

import (
	"slices"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/policy/cmdrules"
)

// TestBuiltinNamesTable: policy/cmdrules checks Builtin keys against its
// own table of rule names, because it cannot link these rules; the table
// must name exactly the rules built here, in their order, and every rule's
// category must be what cmdrules derives from its name.
func TestBuiltinNamesTable(t *testing.T) {
	var names []string
	for _, b := range tables().builtinRules {
		names = append(names, b.name)
		if got := cmdrules.CategoryOf(b.name); got != b.category {
			t.Errorf("built-in rule %s has category %q; cmdrules.CategoryOf says %q (the category must be the name up to '/')", b.name, b.category, got)
		}
		if !cmdrules.IsCategory(b.category) {
			t.Errorf("built-in rule %s: category %q is not in cmdrules.Categories", b.name, b.category)
		}
	}
	if table := cmdrules.BuiltinNames(); !slices.Equal(table, names) {
		for _, n := range names {
			if !slices.Contains(table, n) {
				t.Errorf("built-in rule %s is missing from policy/cmdrules/builtin.go (builtinNames)", n)
			}
		}
		for _, n := range table {
			if !slices.Contains(names, n) {
				t.Errorf("policy/cmdrules/builtin.go names %s, which is no built-in rule here", n)
			}
		}
		if !t.Failed() {
			t.Errorf("policy/cmdrules/builtin.go lists the built-in rules in another order than newBuiltinRules:\n got %q\nwant %q", table, names)
		}
	}
}

// TestCheckPatternIsParsePattern: cmdrules.CheckPattern (what Validate
// accepts) and parsePattern (what New compiles) agree on every string of up
// to five characters over the characters the syntax gives a meaning to,
// and give the same message when they refuse one. Were they to disagree,
// `cordon policy validate` would accept a file `cordon run` refuses, or the
// reverse.
func TestCheckPatternIsParsePattern(t *testing.T) {
	alphabet := []string{"a", "*", "?", `\`, "|", "é", "\xff"}
	strs, level := []string{""}, []string{""}
	for n := 1; n <= 5; n++ {
		var next []string
		for _, s := range level {
			for _, c := range alphabet {
				next = append(next, s+c)
			}
		}
		strs, level = append(strs, next...), next
	}
	if len(strs) != 19608 { // 7^0 + ... + 7^5
		t.Fatalf("built %d strings; the generator is broken", len(strs))
	}
	for _, s := range strs {
		checkErr := cmdrules.CheckPattern(s)
		_, parseErr := parsePattern(s)
		switch {
		case (checkErr == nil) != (parseErr == nil):
			t.Errorf("%q: CheckPattern says %v, parsePattern says %v", s, checkErr, parseErr)
		case checkErr != nil && checkErr.Error() != parseErr.Error():
			t.Errorf("%q: CheckPattern says %q, parsePattern %q", s, checkErr, parseErr)
		}
	}
}

// TestValidateIsNew: a Config that cmdrules' Validate accepts, New compiles,
// and one it refuses, New refuses with the same message.
func TestValidateIsNew(t *testing.T) {
	tokens := []string{"git", "**", "*", `a\`, "a||b", "x|y", ""}
	for _, a := range tokens {
		for _, b := range tokens {
			for _, anyArg := range [][]string{nil, {"-f"}, {"|"}} {
				c := Config{Rules: []Rule{{Name: "r", Match: []string{a, b}, AnyArg: anyArg, Decision: Ask}},
					ProtectedBranches: []string{strings.TrimSuffix(b, "*")}}
				verr := c.Validate()
				_, nerr := New(c)
				if (verr == nil) != (nerr == nil) || verr != nil && verr.Error() != nerr.Error() {
					t.Errorf("match %q any_arg %q: Validate says %v, New says %v", []string{a, b}, anyArg, verr, nerr)
				}
			}
		}
	}
}
