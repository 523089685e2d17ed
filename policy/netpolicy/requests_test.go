package netpolicy

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func githubRules(t testing.TB, extra ...RequestRule) *Rules {
	t.Helper()
	cfg := Config{Mode: ModeProxy, Allow: []string{"api.github.com"}, Requests: append(extra,
		RequestRule{Name: "read", Host: "api.github.com", Methods: []string{"GET", "head"}, Decision: RequestAllow},
		RequestRule{Name: "merge", Host: "api.github.com", Methods: []string{"PUT"}, Path: "/repos/*/*/pulls/*/merge", Decision: RequestAsk, Reason: "merges are reviewed"},
		RequestRule{Name: "no-delete", Host: "api.github.com", Methods: []string{"DELETE"}, Decision: RequestDeny},
		RequestRule{Name: "rest", Host: "api.github.com", Decision: RequestAsk},
	)}
	r, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDecideRequest(t *testing.T) {
	r := githubRules(t, RequestRule{Name: "early-allow", Host: "api.github.com", Methods: []string{"DELETE"}, Path: "/gists/**", Decision: RequestAllow})
	gh := Target{Name: "api.github.com", Port: 443}
	cases := []struct {
		method, path string
		want         Verdict
		rule         string
	}{
		{"GET", "/repos/a/b", Allow, `network.requests "read"`},
		{"get", "/user", Allow, `network.requests "read"`},
		{"HEAD", "/", Allow, `network.requests "read"`},
		{"PUT", "/repos/a/b/pulls/7/merge", Ask, `network.requests "merge"`},
		{"PUT", "/REPOS/a/b/PULLS/7/Merge/", Ask, `network.requests "merge"`},
		{"PUT", "/repos/a/b/pulls/7/%6derge", Ask, `network.requests "merge"`}, // decoded before matching
		{"PUT", "/repos/a/b/c/pulls/7/merge", Ask, `network.requests "rest"`},  // * is one segment; the catch-all asks
		{"DELETE", "/repos/a/b", Deny, `network.requests "no-delete"`},
		// A deny wins over an allow written before it.
		{"DELETE", "/gists/1", Deny, `network.requests "no-delete"`},
		{"delete", "/repos/a/b", Deny, `network.requests "no-delete"`},
		{"POST", "/repos/a/b/issues", Ask, `network.requests "rest"`},
		// Paths the rules cannot judge are refused.
		{"GET", "/repos/a/../b", Deny, ""},
		{"GET", "/repos/a%2fb", Deny, ""},
		{"GET", "//repos", Deny, ""},
		{"GET", "*", Deny, ""},
	}
	for _, c := range cases {
		d := r.DecideRequest(gh, c.method, c.path)
		if d.Verdict != c.want || d.Rule != c.rule {
			t.Errorf("%s %s: got %v by %q (%s), want %v by %q", c.method, c.path, d.Verdict, d.Rule, d.Reason, c.want, c.rule)
		}
		if d.Verdict != Allow && !strings.Contains(d.Reason, c.method) {
			t.Errorf("%s %s: the reason does not name the method: %s", c.method, c.path, d.Reason)
		}
	}
	if d := r.DecideRequest(gh, "PUT", "/repos/a/b/pulls/7/merge"); !strings.Contains(d.Reason, "merges are reviewed") || !strings.Contains(d.Reason, "/repos/a/b/pulls/7/merge") {
		t.Errorf("the ask does not give the path and the rule's reason: %s", d.Reason)
	}
	// Other hosts and ports are not governed.
	for _, o := range []Target{{Name: "github.com", Port: 443}, {Name: "api.github.com", Port: 8443}} {
		if r.GovernsRequests(o) {
			t.Errorf("%v is governed", o)
		}
		if d := r.DecideRequest(o, "DELETE", "/x"); d.Verdict != Allow || d.Rule != "" {
			t.Errorf("%v: %v by %q", o, d.Verdict, d.Rule)
		}
	}
	for _, p := range []int{80, 443} {
		if !r.GovernsRequests(Target{Name: "api.github.com", Port: p}) {
			t.Errorf("port %d is not governed", p)
		}
	}
}

func TestRequestRuleValidate(t *testing.T) {
	cfg := Config{Mode: ModeProxy, Requests: []RequestRule{
		{Host: "api.github.com", Decision: RequestAllow},
		{Host: "", Decision: "maybe", Methods: []string{"GET POST"}, Path: "repos"},
		{Host: "*.com", Path: "/a/../b", Decision: RequestDeny},
		{Host: "x.test", Path: "/a**", Methods: []string{}},
	}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid request rules were accepted")
	}
	want := []string{
		"network.requests[1].host", "network.requests[1].decision", "network.requests[1].methods[0]", "network.requests[1].path",
		"network.requests[2].host", "network.requests[2].path",
		"network.requests[3].path", "network.requests[3].methods", "network.requests[3].decision",
	}
	got := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ke *KeyError
		if !errors.As(e, &ke) {
			t.Errorf("an error names no key: %v", e)
			continue
		}
		got[ke.Key] = true
	}
	for _, k := range want {
		if !got[k] {
			t.Errorf("no error about %s in:\n%v", k, err)
		}
	}
	if got["network.requests[0].host"] || got["network.requests[0].decision"] {
		t.Errorf("the valid rule was refused:\n%v", err)
	}
}

func TestTightenRequests(t *testing.T) {
	base := Config{Mode: ModeProxy, Allow: []string{"api.github.com"}, Requests: []RequestRule{
		{Host: "api.github.com", Methods: []string{"GET"}, Decision: RequestAllow},
	}}
	if _, err := base.Tighten(Config{Requests: []RequestRule{{Host: "api.github.com", Decision: RequestAllow}}}); err == nil ||
		!strings.Contains(err.Error(), "network.requests[0].decision") {
		t.Errorf("a workspace allow rule was accepted: %v", err)
	}
	out, err := base.Tighten(Config{Requests: []RequestRule{{Host: "api.github.com", Methods: []string{"GET"}, Path: "/admin/**", Decision: RequestAsk}}})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := Compile(out)
	if d := r.DecideRequest(Target{Name: "api.github.com", Port: 443}, "GET", "/admin/x"); d.Verdict != Ask {
		t.Errorf("the workspace's ask did not hold: %v by %s", d.Verdict, d.Rule)
	}
}

// strictness orders verdicts: allow < ask < deny.
func strictness(v Verdict) int {
	switch v {
	case Allow:
		return 0
	case Ask:
		return 1
	}
	return 2
}

// TestTightenNeverWidensRequests: for random rule sets and requests, a
// request is decided at least as strictly after a workspace layer is
// merged as before.
func TestTightenNeverWidensRequests(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"a.test", "b.test", "*.a.test", "a.test:8443"}
	methods := []string{"GET", "PUT", "DELETE", "POST"}
	globs := []string{"", "/", "/x", "/x/*", "/x/**", "/*/y", "/**/y", "/x*", "/x/y/z"}
	paths := []string{"/", "/x", "/x/", "/x/y", "/x/y/z", "/q/y", "/xa", "/x/../y", "/X/Y"}
	decisions := []string{RequestAllow, RequestAsk, RequestDeny}
	ruleSet := func(n int, ds []string) []RequestRule {
		var out []RequestRule
		for range n {
			rr := RequestRule{Host: hosts[rng.IntN(len(hosts))], Path: globs[rng.IntN(len(globs))], Decision: ds[rng.IntN(len(ds))]}
			if rng.IntN(2) == 0 {
				rr.Methods = []string{methods[rng.IntN(len(methods))]}
			}
			out = append(out, rr)
		}
		return out
	}
	targets := []Target{{Name: "a.test", Port: 443}, {Name: "a.test", Port: 80}, {Name: "x.a.test", Port: 443}, {Name: "a.test", Port: 8443}, {Name: "b.test", Port: 443}}
	for i := range 300 {
		base := Config{Mode: ModeProxy, Requests: ruleSet(rng.IntN(5), decisions)}
		less := Config{Requests: ruleSet(rng.IntN(4), decisions[1:])}
		merged, err := base.Tighten(less)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		rb, _ := Compile(base)
		rm, err := Compile(merged)
		if err != nil {
			t.Fatalf("case %d: merged: %v", i, err)
		}
		for _, tg := range targets {
			for _, m := range methods {
				for _, p := range paths {
					b, a := rb.DecideRequest(tg, m, p), rm.DecideRequest(tg, m, p)
					if strictness(a.Verdict) < strictness(b.Verdict) {
						t.Fatalf("case %d: %s %s on %v: %v (%s) before, %v (%s) after merging\nbase %+v\nless %+v",
							i, m, p, tg, b.Verdict, b.Rule, a.Verdict, a.Rule, base.Requests, less.Requests)
					}
				}
			}
		}
	}
}

// globRegexp is an independent reading of the glob syntax, as a regular
// expression over the lower-case path without its trailing "/".
func globRegexp(segs []string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, s := range segs {
		if s == "**" {
			b.WriteString("(/[^/]+)*")
			continue
		}
		b.WriteString("/")
		for _, part := range strings.Split(s, "*") {
			b.WriteString(regexp.QuoteMeta(part))
			b.WriteString("[^/]*")
		}
		str := b.String()
		b.Reset()
		b.WriteString(strings.TrimSuffix(str, "[^/]*"))
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func FuzzMatchPath(f *testing.F) {
	for _, s := range [][2]string{
		{"/repos/*/*/pulls/*/merge", "/repos/a/b/pulls/1/merge"},
		{"/**", "/"}, {"/a/**/b", "/a/b"}, {"/a/**/b", "/a/x/y/b"}, {"/*a*b*", "/xaybz"},
		{"/**/**/x", "/x"}, {"/a*", "/a"}, {"/", "/"}, {"/x/*", "/x/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, glob, path string) {
		g, err := parsePathGlob(glob)
		if err != nil || len(g) > 8 || strings.Count(glob, "*") > 6 {
			return
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "\x00") || len(path) > 64 {
			return
		}
		segs := splitPath(strings.ToLower(path))
		for _, s := range segs {
			if s == "" {
				return // the proxy refuses empty segments before matching
			}
		}
		got := matchSegments(g, segs)
		norm := "/" + strings.Join(segs, "/")
		if len(segs) == 0 {
			norm = ""
		}
		want := globRegexp(g).MatchString(norm)
		if got != want {
			t.Fatalf("glob %q, path %q: matcher %v, regexp %v (%s)", glob, path, got, want, globRegexp(g))
		}
		// Case never matters.
		if up := matchSegments(g, splitPath(strings.ToLower(strings.ToUpper(path)))); up != got && strings.ToLower(strings.ToUpper(path)) == strings.ToLower(path) {
			t.Fatalf("glob %q: %q and its upper case differ", glob, path)
		}
	})
}

// FuzzDecideRequest: whatever the method and path, a DELETE is never
// allowed past the deny rule, an unclean path never passes a governed host,
// and the reason never holds a raw control byte.
func FuzzDecideRequest(f *testing.F) {
	for _, s := range [][2]string{{"DELETE", "/repos/a/b"}, {"delete", "/x/%2e%2e/y"}, {"GET", "/a/./b"}, {"PUT", "/repos/a/b/pulls/1/merge"}, {"GET", "/%zz"}} {
		f.Add(s[0], s[1])
	}
	r := githubRules(f)
	gh := Target{Name: "api.github.com", Port: 443}
	f.Fuzz(func(t *testing.T, method, path string) {
		d := r.DecideRequest(gh, method, path)
		if strings.EqualFold(method, "DELETE") && d.Verdict != Deny {
			t.Fatalf("%q %q: %v by %s", method, path, d.Verdict, d.Rule)
		}
		if !CleanPath(path) && d.Verdict != Deny {
			t.Fatalf("unclean %q: %v by %s", path, d.Verdict, d.Rule)
		}
		if d.Verdict == Allow && !(strings.EqualFold(method, "GET") || strings.EqualFold(method, "HEAD")) {
			t.Fatalf("%q %q allowed by %s; only GET and HEAD are", method, path, d.Rule)
		}
		if strings.ContainsAny(d.Reason, "\r\n\x00") {
			t.Fatalf("the reason holds a control byte: %q", d.Reason)
		}
	})
}
