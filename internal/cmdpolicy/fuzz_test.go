package cmdpolicy

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// The fuzz targets below also run their seed corpus (f.Add plus
// testdata/fuzz/<Name>/) as ordinary tests under `go test`.

// checkResult asserts what every result must satisfy.
func checkResult(t *testing.T, input string, r Result) {
	t.Helper()
	want := Allow
	for _, p := range r.Parts {
		if !p.Decision.Valid() {
			t.Fatalf("%q: part %q has decision %v", input, p.Command, p.Decision)
		}
		if p.Reason == "" {
			t.Fatalf("%q: part %q has no reason", input, p.Command)
		}
		want = max(want, p.Decision)
	}
	if r.Decision != want {
		t.Fatalf("%q: decision %v is not the strictest of its parts (%v)", input, r.Decision, want)
	}
	if len(r.Parts) > maxParts {
		t.Fatalf("%q: %d parts, more than the limit %d", input, len(r.Parts), maxParts)
	}
}

// FuzzCheckScript: the splitter never panics, and never allows a command
// line it cannot parse.
func FuzzCheckScript(f *testing.F) {
	for _, tables := range [][]tableCase{builtinTable, strictTable, askTable, pushTable, scriptsTable} {
		for _, tc := range tables {
			f.Add(tc.cmd)
		}
	}
	f.Fuzz(func(t *testing.T, script string) {
		_, parseErr := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
		for _, p := range []*Policy{builtinPolicy, strictPolicy, askPolicy} {
			r := p.CheckScript(script)
			checkResult(t, script, r)
			if parseErr != nil && r.Decision == Allow {
				t.Fatalf("%q cannot be parsed (%v) but was allowed", script, parseErr)
			}
			if again := p.CheckScript(script); again.Decision != r.Decision || len(again.Parts) != len(r.Parts) {
				t.Fatalf("%q: two checks disagree: %v/%d then %v/%d", script, r.Decision, len(r.Parts), again.Decision, len(again.Parts))
			}
		}
		// Wrapping a command line in bash -c must not make it looser.
		if len(script) < 4096 {
			inner := builtinPolicy.CheckScript(script).Decision
			if outer := builtinPolicy.Check([]string{"bash", "-c", script}).Decision; outer < inner {
				t.Fatalf("bash -c %q is %v, looser than the line itself (%v)", script, outer, inner)
			}
		}
	})
}

// FuzzCheckArgv: an argument vector (NUL-separated here) never panics.
func FuzzCheckArgv(f *testing.F) {
	f.Add("git\x00push\x00--force")
	f.Add("sudo\x00-u\x00x\x00bash\x00-c\x00npm i")
	f.Add("env\x00-S\x00npm ci")
	f.Add("find\x00.\x00-exec\x00sh\x00-c\x00rm -rf /\x00;")
	f.Fuzz(func(t *testing.T, joined string) {
		argv := strings.Split(joined, "\x00")
		for _, p := range []*Policy{builtinPolicy, strictPolicy, askPolicy} {
			checkResult(t, joined, p.Check(argv))
		}
	})
}

// FuzzIntersects: intersects never says "no" about two globs that match a
// common string. Saying "no" wrongly would let a rule miss a command.
func FuzzIntersects(f *testing.F) {
	f.Add("*b", "*ab", "ab")
	f.Add("*.ssh/id_*", "~/.ssh/*", "~/.ssh/id_rsa")
	f.Add("a?c*", "*c", "abc")
	f.Add(`\*x`, "*", "*x")
	f.Fuzz(func(t *testing.T, a, b, s string) {
		ga, errA := parseGlob(a)
		gb, errB := parseGlob(b)
		if errA != nil || errB != nil {
			return
		}
		if ga.match(s) && gb.match(s) && (!intersects(ga, gb) || !intersects(gb, ga)) {
			t.Fatalf("%q and %q both match %q but intersects says no", a, b, s)
		}
		if !literalGlob(s).match(s) {
			t.Fatalf("the literal glob of %q does not match it", s)
		}
		// Precision, below the size where intersects gives up and says yes.
		lit := literalGlob(s)
		if (len(ga)+1)*(len(lit)+1) <= maxIntersectCells && ga.match(s) != intersects(ga, lit) {
			t.Fatalf("match(%q, %q) = %v disagrees with intersects", a, s, ga.match(s))
		}
	})
}

// TestGrowingInputIsBounded: code that grows at every level of nesting
// (eval of brace-expanded words) stops at the limits, is not allowed, and
// does not take long enough for a test timeout to notice.
func TestGrowingInputIsBounded(t *testing.T) {
	word := "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}"
	line := strings.Repeat("eval ", maxDepth+2) + strings.Repeat(word+" ", 32)
	for _, p := range []*Policy{builtinPolicy, strictPolicy} {
		r := p.CheckScript(line)
		checkResult(t, line, r)
		if r.Decision == Allow {
			t.Fatalf("a line beyond the limits was allowed")
		}
	}
}

// pathMatch is a reference matcher for pathname globs: segment wildcards
// never match '/', and a component that starts with a wildcard never
// starts with '.'.
func pathMatch(g glob, s []rune) bool {
	if len(g) == 0 {
		return len(s) == 0
	}
	switch e := g[0]; e.kind {
	case globNotDot:
		return (len(s) == 0 || s[0] != '.') && pathMatch(g[1:], s)
	case globSegAny:
		for k := 0; k <= len(s); k++ {
			if pathMatch(g[1:], s[k:]) {
				return true
			}
			if k < len(s) && s[k] == '/' {
				return false
			}
		}
		return false
	case globSegOne:
		return len(s) > 0 && s[0] != '/' && pathMatch(g[1:], s[1:])
	default:
		return len(s) > 0 && s[0] == e.r && pathMatch(g[1:], s[1:])
	}
}

// FuzzIntersectsPath: intersectsPath never says "no" about a rule glob and
// a pathname glob that both match a string.
func FuzzIntersectsPath(f *testing.F) {
	f.Add("*/.env*", "src/*.go", "src/.env")
	f.Add("*.ssh/id_*", "~/.ssh/*", "~/.ssh/id_rsa")
	f.Add(".env*", "*", ".env")
	f.Add("*_netrc", "*", "_netrc")
	f.Add("a?c", "a?*", "abc")
	f.Fuzz(func(t *testing.T, a, b, s string) {
		ga, errA := parseGlob(a)
		gb, errB := parseGlob(b)
		if errA != nil || errB != nil || len(gb) == 0 || len(s) > 64 || len(b) > 64 {
			return
		}
		pg, ok := pathnameGlob(word{pattern: gb, fields: someFields, pathGlob: true})
		if !ok {
			t.Fatalf("pathnameGlob refused a pathname word")
		}
		if ga.match(s) && pathMatch(pg, runesOf(s)) && !intersectsPath(ga, pg) {
			t.Fatalf("%q and the pathname glob %q both match %q but intersectsPath says no", a, b, s)
		}
	})
}

func TestPathnameGlobs(t *testing.T) {
	for _, tc := range []struct {
		rule, word string
		want       bool
	}{
		{"*/.env*", "src/*.go", false},
		{".env*", "*", false},
		{".env*", ".e*", true},
		{"*/.env*", "*/.env", true},
		{"*.ssh/id_*", "~/.ssh/*", true},
		{"*.ssh/id_*", "*.pem", false},
		{"*.aws/credentials*", "~/.aws/*", true},
		{"*/.aws/credentials*", "~/*/credentials", false}, // * cannot be ".aws"
		{"*.aws/credentials*", "~/*/credentials", true},   // but it can be "x.aws"
	} {
		g, _ := parseGlob(tc.word)
		pg, _ := pathnameGlob(word{pattern: g, fields: someFields, pathGlob: true})
		r, _ := parseGlob(tc.rule)
		if got := intersectsPath(r, pg); got != tc.want {
			t.Errorf("intersectsPath(%q, pathname %q) = %v, want %v", tc.rule, tc.word, got, tc.want)
		}
	}
}
