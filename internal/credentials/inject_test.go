package credentials_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/credentials"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
)

func injected() credentials.Scope {
	s := github()
	s.Inject = &credentials.Inject{Hosts: []string{"api.github.com", "github.com"}, Paths: []string{"/repos/acme/"}}
	return s
}

func secretOf(t *testing.T, value string) credentials.Secret {
	t.Helper()
	sec, err := credentials.Resolve(github(), "/home/x", []string{"GITHUB_TOKEN=" + value})
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func TestInjectDecodesAndValidates(t *testing.T) {
	const file = `
[[credentials]]
name = "github"
env = "GITHUB_TOKEN"
from_env = "GITHUB_TOKEN"
commands = [["gh", "**"], ["git", "**"]]
[credentials.inject]
hosts = ["api.github.com", "github.com"]
header = "Authorization"
format = "basic"
user = "x-access-token"
`
	var f struct {
		Credentials credentials.Scopes `toml:"credentials"`
	}
	dec := toml.NewDecoder(strings.NewReader(file))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	if err := f.Credentials.Validate(); err != nil {
		t.Fatal(err)
	}
	if in := f.Credentials[0].Inject; in == nil || len(in.Hosts) != 2 || in.Format != "basic" {
		t.Fatalf("inject decoded as %+v", in)
	}

	with := func(f func(*credentials.Inject)) credentials.Scopes {
		s := injected()
		f(s.Inject)
		return credentials.Scopes{s}
	}
	for _, tc := range []struct {
		name   string
		scopes credentials.Scopes
		errs   []string
	}{
		{"no hosts", with(func(in *credentials.Inject) { in.Hosts = nil }), []string{`credentials[0] ("github")`, "inject.hosts is empty"}},
		{"plain http", with(func(in *credentials.Inject) { in.Hosts = []string{"api.github.com:80"} }), []string{"inject.hosts[0]", "plain HTTP"}},
		{"bad host", with(func(in *credentials.Inject) { in.Hosts = []string{"*"} }), []string{"inject.hosts[0]", "wildcard"}},
		{"bad path", with(func(in *credentials.Inject) { in.Paths = []string{"/a/../b"} }), []string{`inject.paths[0] "/a/../b"`}},
		{"framing header", with(func(in *credentials.Inject) { in.Header = "Content-Length" }), []string{`inject.header "Content-Length"`}},
		{"format", with(func(in *credentials.Inject) { in.Format = "digest" }), []string{`inject.format "digest"`}},
		{"user without basic", with(func(in *credentials.Inject) { in.User = "u" }), []string{`inject.user "u"`, "basic"}},
		{"remove takes no inject", credentials.Scopes{{Name: "github", Remove: true, Inject: &credentials.Inject{Hosts: []string{"x.test"}}}}, []string{"remove = true takes no other key"}},
		{"empty inject change", credentials.Scopes{{Name: "github", Inject: &credentials.Inject{}}}, []string{"inject sets nothing"}},
	} {
		err := tc.scopes.Validate()
		if err == nil {
			t.Errorf("%s: valid", tc.name)
			continue
		}
		for _, w := range tc.errs {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tc.name, err, w)
			}
		}
	}
}

func TestInjectLayers(t *testing.T) {
	base, err := credentials.Scopes(nil).Merge(credentials.Scopes{injected()}, "/home/u/policy.toml")
	if err != nil {
		t.Fatal(err)
	}
	// A trusted change replaces what it names.
	merged, err := base.Merge(credentials.Scopes{{Name: "github", Inject: &credentials.Inject{Hosts: []string{"api.github.com"}, Header: "X-Token"}}}, "/etc/p.toml")
	if err != nil {
		t.Fatal(err)
	}
	if in := merged[0].Inject; len(in.Hosts) != 1 || in.Header != "X-Token" || len(in.Paths) != 1 {
		t.Errorf("trusted change gave %+v", in)
	}
	if base[0].Inject.Header != "" || len(base[0].Inject.Hosts) != 2 {
		t.Error("Merge changed its receiver")
	}

	ok := []credentials.Inject{
		{Hosts: []string{"api.github.com"}},
		{Paths: []string{"/repos/acme/app/"}},
		{Hosts: []string{"github.com"}, Paths: []string{"/repos/acme/"}},
	}
	for _, in := range ok {
		got, err := base.Tighten(credentials.Scopes{{Name: "github", Inject: &in}}, "/ws/.cordon/policy.toml")
		if err != nil {
			t.Errorf("narrowing %+v refused: %v", in, err)
			continue
		}
		if in.Hosts != nil && fmt.Sprint(got[0].Inject.Hosts) != fmt.Sprint(in.Hosts) || in.Paths != nil && fmt.Sprint(got[0].Inject.Paths) != fmt.Sprint(in.Paths) {
			t.Errorf("narrowing %+v gave %+v", in, got[0].Inject)
		}
	}
	for _, tc := range []struct {
		in   credentials.Inject
		want string
	}{
		{credentials.Inject{Hosts: []string{"evil.example"}}, `inject.hosts[0] "evil.example": adds a host`},
		{credentials.Inject{Hosts: []string{"*.github.com"}}, "adds a host"},
		{credentials.Inject{Hosts: []string{}}, "remove = true"},
		{credentials.Inject{Paths: []string{"/repos/other/"}}, `inject.paths[0] "/repos/other/": is not within`},
		{credentials.Inject{Hosts: []string{"github.com"}, Header: "X-Leak"}, "not set header, format or user"},
		{credentials.Inject{Hosts: []string{"github.com"}, Format: "raw"}, "not set header, format or user"},
	} {
		_, err := base.Tighten(credentials.Scopes{{Name: "github", Inject: &tc.in}}, "/ws/.cordon/policy.toml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Tighten %+v: %v; want %q", tc.in, err, tc.want)
		}
	}
	// A credential handed over in its variable cannot be switched to
	// injection (or back) by a workspace.
	plain, _ := credentials.Scopes(nil).Merge(credentials.Scopes{github()}, "/home/u/policy.toml")
	if _, err := plain.Tighten(credentials.Scopes{{Name: "github", Inject: &credentials.Inject{Hosts: []string{"api.github.com"}}}}, "/ws/p.toml"); err == nil || !strings.Contains(err.Error(), "may not change how its secret is given") {
		t.Errorf("a workspace turned an env credential into an injected one: %v", err)
	}
	def := injected()
	def.Name = "new"
	def.Env = "NEW_TOKEN"
	if _, err := base.Tighten(credentials.Scopes{def}, "/ws/p.toml"); err == nil {
		t.Error("a workspace defined an injected credential")
	}
}

func TestPlaceholder(t *testing.T) {
	for _, tc := range []struct{ value, prefix string }{
		{"ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_"},
		{"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "github_pat_"},
		{"glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-"},
		{"sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789", "sk-ant-api03-"},
		{"npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_"},
		{"xoxb-1234567890-abcdefghijkl", "xoxb-"},
		{"0123456789abcdef0123456789abcdef", ""},
		{"ghp_short12", ""}, // the rest would be shorter than 8: no prefix kept
		{"correct horse battery staple", ""},
	} {
		sec := secretOf(t, tc.value)
		ph, err := credentials.Placeholder(sec)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := credentials.Placeholder(sec)
		switch {
		case len(ph) != len(tc.value):
			t.Errorf("%q: placeholder %q has length %d, want %d", tc.value, ph, len(ph), len(tc.value))
		case !strings.HasPrefix(ph, tc.prefix):
			t.Errorf("%q: placeholder %q lost the prefix %q", tc.value, ph, tc.prefix)
		case ph == tc.value || again == ph:
			t.Errorf("%q: placeholder %q is the secret or not fresh (%q)", tc.value, ph, again)
		case strings.Trim(ph[len(tc.prefix):], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "":
			t.Errorf("%q: placeholder %q has characters outside [A-Za-z0-9] after the prefix", tc.value, ph)
		}
		if tc.prefix == "" && len(tc.value) > 12 && strings.HasPrefix(ph, tc.value[:4]) {
			t.Errorf("%q: placeholder %q starts like the secret", tc.value, ph)
		}
	}
}

func TestNewInjection(t *testing.T) {
	const value = "ghp_REALsecretVALUE0123456789abcdefABCD"
	s := injected()
	s.Inject.Format = "basic"
	inj, entry, err := credentials.NewInjection(s, secretOf(t, value))
	if err != nil {
		t.Fatal(err)
	}
	ph, ok := strings.CutPrefix(entry, "GITHUB_TOKEN=")
	if !ok || ph != inj.Placeholder || strings.Contains(entry, value) {
		t.Errorf("the command's variable is %q (placeholder %q)", entry, inj.Placeholder)
	}
	if inj.Secret != value || inj.Name != "github" || inj.ValueFormat != "basic" || len(inj.Hosts) != 2 || len(inj.Paths) != 1 {
		t.Errorf("injection %+v", inj)
	}
	if j, _ := json.Marshal(inj); strings.Contains(string(j)+fmt.Sprintf("%v %+v %#v", inj, inj, inj), value) {
		t.Error("the injection prints its secret")
	}
	ca, _ := netproxy.NewCA()
	if _, err := netproxy.New(netproxy.Config{Mode: netproxy.ModeProxy}, netproxy.Options{CA: ca, Inject: []netproxy.Injection{inj}}); err != nil {
		t.Errorf("the proxy refuses the injection: %v", err)
	}
	if _, _, err := credentials.NewInjection(github(), secretOf(t, value)); err == nil {
		t.Error("a credential without inject made an injection")
	}

	s.Reason = ""
	ev := credentials.Event(s, cmdpolicy.Allow, "policy")
	if !strings.Contains(ev.Reason, "placeholder") || !strings.Contains(ev.Reason, "api.github.com") || ev.Target != "github" {
		t.Errorf("event %+v", ev)
	}
}
