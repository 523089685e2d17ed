package netpolicy

import (
	"net/netip"
	"strings"
	"testing"
)

func mustCompile(t testing.TB, cfg Config) *Rules {
	t.Helper()
	r, err := Compile(cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return r
}

func TestDecide(t *testing.T) {
	rules := mustCompile(t, Config{
		Mode:         ModeProxy,
		Presets:      []string{"git-hosts"},
		Allow:        []string{"allowed.test", "*.wild.test", "api.example.com:8443", "127.0.0.1:8080", "[::1]:9090", "www.example.com"},
		AllowPrivate: []string{"private.test", "db.private.test:5432"},
		TCP:          []string{"git.test:22"},
		Deny:         []string{"blocked.wild.test", "www.example.com:443"},
	})
	tests := []struct {
		host    string
		port    int
		verdict Verdict
		rule    string // substring of Decision.Rule; "-" means empty
		private bool
	}{
		{"allowed.test", 443, Allow, `network.allow "allowed.test"`, false},
		{"allowed.test", 80, Allow, `network.allow "allowed.test"`, false},
		{"ALLOWED.TEST", 443, Allow, `"allowed.test"`, false},
		{"allowed.test.", 443, Allow, `"allowed.test"`, false},
		{"Allowed.Test.", 443, Allow, `"allowed.test"`, false},
		{"allowed.test", 22, Deny, "-", false},   // port not listed
		{"allowed.test", 8443, Deny, "-", false}, // port not listed
		{"allowed.test..", 443, Deny, "-", false},
		{"evil.test\x00.allowed.test", 443, Deny, "-", false},
		{"allowed.test.evil.test", 443, Deny, "-", false},
		{"evilallowed.test", 443, Deny, "-", false},
		{"sub.allowed.test", 443, Deny, "-", false}, // exact names do not cover subdomains

		{"sub.wild.test", 443, Allow, `"*.wild.test"`, false},
		{"a.b.wild.test", 443, Allow, `"*.wild.test"`, false},
		{"wild.test", 443, Deny, "-", false}, // *.suffix is subdomains only
		{"xwild.test", 443, Deny, "-", false},
		{"blocked.wild.test", 443, Deny, `network.deny "blocked.wild.test"`, false},
		{"blocked.wild.test", 8080, Deny, `network.deny`, false}, // deny without port: every port
		{"www.example.com", 80, Allow, `network.allow "www.example.com"`, false},
		{"www.example.com", 443, Deny, `network.deny "www.example.com:443"`, false},

		{"api.example.com", 8443, Allow, `"api.example.com:8443"`, false},
		{"api.example.com", 443, Deny, "-", false},

		{"127.0.0.1", 8080, Allow, `"127.0.0.1:8080"`, true},
		{"2130706433", 8080, Allow, `"127.0.0.1:8080"`, true},
		{"0177.0.0.1", 8080, Allow, `"127.0.0.1:8080"`, true},
		{"0x7f.1", 8080, Allow, `"127.0.0.1:8080"`, true},
		{"127.1", 8080, Allow, `"127.0.0.1:8080"`, true},
		{"::ffff:127.0.0.1", 8080, Allow, `"127.0.0.1:8080"`, true},
		{"[::ffff:7f00:1]", 8080, Allow, `"127.0.0.1:8080"`, true},
		{"[::ffff:127.0.0.1%25lo]", 8080, Deny, "-", false},
		{"127.0.0.1%lo", 8080, Deny, "-", false},
		{"127.0.0.1", 80, Deny, "-", false},
		{"127.0.0.2", 8080, Deny, "-", false},
		{"localhost", 8080, Deny, "-", false}, // a name never matches an IP rule
		{"::1", 9090, Allow, `"[::1]:9090"`, true},
		{"[::1]", 9090, Allow, `"[::1]:9090"`, true},
		{"::2", 9090, Deny, "-", false},

		{"git.test", 22, Allow, `network.tcp "git.test:22"`, false},
		{"git.test", 443, Deny, "-", false},
		{"github.com", 22, Allow, `preset "git-hosts": "github.com:22"`, false},
		{"github.com", 443, Allow, `preset "git-hosts": "github.com"`, false},
		{"raw.githubusercontent.com", 443, Allow, `"*.githubusercontent.com"`, false},
		{"githubusercontent.com", 443, Deny, "-", false},

		{"private.test", 443, Allow, `network.allow_private "private.test"`, true},
		{"db.private.test", 5432, Allow, `network.allow_private "db.private.test:5432"`, true},
		{"db.private.test", 443, Deny, "-", false},

		{"allowed.test", 0, Deny, "-", false},
		{"allowed.test", 65536, Deny, "-", false},
	}
	for _, tt := range tests {
		d := rules.Decide(tt.host, tt.port)
		ruleOK := tt.rule == "-" && d.Rule == "" || tt.rule != "-" && strings.Contains(d.Rule, tt.rule)
		if d.Verdict != tt.verdict || !ruleOK || d.Private != tt.private {
			t.Errorf("Decide(%q, %d) = %v rule %q private %v (%s); want %v rule %q private %v",
				tt.host, tt.port, d.Verdict, d.Rule, d.Private, d.Reason, tt.verdict, tt.rule, tt.private)
		}
		if d.Verdict == Deny && d.Reason == "" {
			t.Errorf("Decide(%q, %d): a refusal without a reason", tt.host, tt.port)
		}
	}
}

func TestDecideRefusalTellsHowToAllow(t *testing.T) {
	rules := mustCompile(t, Config{Mode: ModeProxy, Deny: []string{"evil.test"}})
	d := rules.Decide("Other.Test", 443)
	if want := "cordon run --allow-host other.test:443"; !strings.Contains(d.Fix, want) {
		t.Errorf("Fix = %q; want it to contain %q", d.Fix, want)
	}
	if want := `"other.test" to network.allow`; !strings.Contains(d.Fix, want) {
		t.Errorf("Fix = %q; want it to contain %q", d.Fix, want)
	}
	d = rules.Decide("::1", 8080)
	if want := "--allow-host [::1]:8080"; !strings.Contains(d.Fix, want) {
		t.Errorf("Fix = %q; want it to contain %q", d.Fix, want)
	}
	d = rules.Decide("evil.test", 443)
	if !strings.Contains(d.Fix, `remove "evil.test" from network.deny`) {
		t.Errorf("Fix for a denied host = %q; want it to name the deny entry", d.Fix)
	}
}

func TestDecideModes(t *testing.T) {
	allow := []string{"allowed.test"}
	for _, tt := range []struct {
		cfg  Config
		host string
		want Verdict
	}{
		{Config{Allow: allow}, "allowed.test", Deny}, // mode defaults to off
		{Config{Mode: ModeOff, Allow: allow}, "allowed.test", Deny},
		{Config{Mode: ModeProxy}, "allowed.test", Deny}, // empty allow list allows nothing
		{Config{Mode: ModeProxy, Allow: allow}, "allowed.test", Allow},
		{Config{Mode: ModeProxy, Allow: allow, Unlisted: UnlistedAsk}, "other.test", Ask},
		{Config{Mode: ModeProxy, Allow: allow, Unlisted: UnlistedAsk, Deny: []string{"other.test"}}, "other.test", Deny},
		{Config{Mode: ModeOff, Unlisted: UnlistedAsk}, "other.test", Deny},
		{Config{Mode: ModeFull}, "anything.test", Allow},
		{Config{Mode: ModeFull, Deny: []string{"*.evil.test"}}, "a.evil.test", Deny},
	} {
		d := mustCompile(t, tt.cfg).Decide(tt.host, 443)
		if d.Verdict != tt.want {
			t.Errorf("%+v: Decide(%q) = %v (%s); want %v", tt.cfg, tt.host, d.Verdict, d.Reason, tt.want)
		}
	}
}

func TestCheckResolved(t *testing.T) {
	public := Decision{Host: "allowed.test", Rule: `network.allow "allowed.test"`}
	private := Decision{Host: "private.test", Rule: `network.allow_private "private.test"`, Private: true}
	tests := []struct {
		d    Decision
		addr string
		ok   bool
		what string
	}{
		{public, "93.184.215.14", true, ""},
		{public, "2606:2800:21f:cb07:6820:80da:af6b:8b2c", true, ""},
		{public, "127.0.0.1", false, "loopback"},
		{public, "127.255.0.1", false, "loopback"},
		{public, "::1", false, "loopback"},
		{public, "::ffff:127.0.0.1", false, "loopback"},
		{public, "10.1.2.3", false, "private"},
		{public, "172.16.0.1", false, "private"},
		{public, "192.168.1.1", false, "private"},
		{public, "fd12::1", false, "unique local"},
		{public, "169.254.1.1", false, "link-local"},
		{public, "fe80::1", false, "link-local"},
		{public, "100.64.0.1", false, "CGNAT"},
		{public, "224.0.0.1", false, "multicast"},
		{public, "ff02::1", false, "multicast"},
		{public, "0.0.0.0", false, "unspecified"},
		{public, "::", false, "unspecified"},
		{public, "255.255.255.255", false, "reserved"},
		{public, "64:ff9b::a00:1", false, "NAT64 of private"},
		{public, "2002:a00:1::1", false, "6to4 of private"},
		{public, "::7f00:1", false, "IPv4-compatible"},
		{public, "169.254.169.254", false, "metadata"},
		{public, "fd00:ec2::254", false, "metadata"},
		{public, "100.100.100.200", false, "metadata"},
		{public, "168.63.129.16", false, "metadata"},

		{private, "127.0.0.1", true, ""},
		{private, "10.1.2.3", true, ""},
		{private, "fd12::1", true, ""},
		{private, "100.64.0.1", true, ""},
		{private, "169.254.169.254", false, "metadata"}, // names never reach metadata
		{private, "fd00:ec2::254", false, "metadata"},
		{private, "0.0.0.0", false, "no destination"},
		{private, "224.0.0.1", false, "no destination"},
	}
	for _, tt := range tests {
		reason, ok := tt.d.CheckResolved(netip.MustParseAddr(tt.addr).Unmap())
		if ok != tt.ok || !strings.Contains(reason, tt.what) {
			t.Errorf("checkResolved(%s → %s) = %v %q; want %v, reason containing %q", tt.d.Host, tt.addr, ok, reason, tt.ok, tt.what)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []string // substrings of the error; nil means valid
	}{
		{Config{}, nil},
		{Config{Mode: ModeProxy, Allow: []string{"example.com", "*.example.com:8443", "[::1]:8080", "10.0.0.5"}, TCP: []string{"github.com:22"}, Presets: []string{"package-registries"}, Unlisted: "ask"}, nil},
		{Config{Mode: "on"}, []string{`network.mode: "on"`, `"off"`, `"proxy"`, `"full"`}},
		{Config{Unlisted: "maybe"}, []string{`network.unlisted: "maybe"`, `"deny"`, `"ask"`}},
		{Config{Presets: []string{"nope"}}, []string{`network.presets: "nope"`, `"git-hosts"`, `"package-registries"`}},
		{Config{Allow: []string{"ok.test", "exa mple.com"}}, []string{`network.allow[1]: "exa mple.com"`, "example.com"}},
		{Config{Allow: []string{"evil\x00.com"}}, []string{`network.allow[0]`, "0x00"}},
		{Config{TCP: []string{"github.com"}}, []string{`network.tcp[0]: "github.com"`, "HOST:PORT"}},
		{Config{Allow: []string{"*"}}, []string{`network.allow[0]: "*"`, "wildcard"}},
		{Config{Allow: []string{"*.com"}}, []string{`network.allow[0]: "*.com"`, "top-level domain"}},
		{Config{Allow: []string{"a.*.com"}}, []string{"whole first label"}},
		{Config{Allow: []string{"*.10.0.0.1"}}, []string{"IP address"}},
		{Config{Allow: []string{"0.0.0.0:80"}}, []string{"cannot be a destination"}},
		{Config{Allow: []string{"example.com:99999"}}, []string{"outside 1-65535"}},
		{Config{ExtraCA: "/etc/corp/ca.pem"}, nil},
		{Config{ExtraCA: "corp/ca.pem"}, []string{`network.extra_ca: "corp/ca.pem"`, "absolute path"}},
		{Config{Deny: []string{"bad..host"}}, []string{`network.deny[0]: "bad..host"`}},
		{Config{AllowPrivate: []string{"[::1"}}, []string{`network.allow_private[0]`, "bracket"}},
		// every problem is reported, not only the first
		{Config{Mode: "x", Allow: []string{"a b"}, Deny: []string{"c d"}}, []string{"network.mode", "network.allow[0]", "network.deny[0]"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == nil {
			if err != nil {
				t.Errorf("Validate(%+v) = %v; want nil", tt.cfg, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", tt.cfg)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%+v) = %q; want it to contain %q", tt.cfg, err, w)
			}
		}
	}
}

func TestTighten(t *testing.T) {
	base := Config{
		Mode:         ModeProxy,
		Presets:      []string{"git-hosts"},
		Allow:        []string{"*.example.com", "a.test", "127.0.0.1:8080"},
		AllowPrivate: []string{"db.test:5432"},
		Deny:         []string{"bad.example.com"},
	}
	t.Run("narrowing is accepted", func(t *testing.T) {
		got, err := base.Tighten(Config{
			Mode:         ModeOff,
			Allow:        []string{"api.example.com", "*.x.example.com:443", "a.test:80", "127.0.0.1:8080", "github.com"},
			TCP:          []string{"a.test:443", "github.com:22"},
			AllowPrivate: []string{},
			Presets:      []string{},
			Deny:         []string{"a.test:80", "bad.example.com"},
			Unlisted:     UnlistedDeny,
		})
		if err != nil {
			t.Fatalf("Tighten: %v", err)
		}
		if got.Mode != ModeOff || len(got.Allow) != 5 || len(got.AllowPrivate) != 0 || len(got.Presets) != 0 {
			t.Errorf("Tighten result = %+v", got)
		}
		if strings.Join(got.Deny, ",") != "bad.example.com,a.test:80" {
			t.Errorf("Deny = %q; want the union without duplicates", got.Deny)
		}
		// github.com was allowed via the base's preset; the narrowed result
		// no longer has the preset but keeps the explicit entry.
		if d := mustCompile(t, got).Decide("github.com", 443); d.Verdict != Deny {
			t.Errorf("mode off after tightening, yet github.com is %v", d.Verdict)
		}
	})
	t.Run("left-out lists are kept", func(t *testing.T) {
		got, err := base.Tighten(Config{Deny: []string{"a.test"}})
		if err != nil {
			t.Fatalf("Tighten: %v", err)
		}
		if got.Mode != ModeProxy || len(got.Allow) != 3 || len(got.Presets) != 1 || len(got.AllowPrivate) != 1 {
			t.Errorf("Tighten result = %+v; want the base lists kept", got)
		}
		if d := mustCompile(t, got).Decide("a.test", 443); d.Verdict != Deny {
			t.Errorf("a.test after an added deny = %v; want deny", d.Verdict)
		}
	})
	for _, tt := range []struct {
		name string
		less Config
		want []string
	}{
		{"new host", Config{Allow: []string{"evil.test"}}, []string{`network.allow: "evil.test"`}},
		{"wider wildcard", Config{Allow: []string{"*.test"}}, []string{`"*.test"`}},
		{"suffix itself", Config{Allow: []string{"example.com"}}, []string{`"example.com"`}},
		{"other port", Config{Allow: []string{"a.test:22"}}, []string{`"a.test:22"`}},
		{"raw tcp", Config{TCP: []string{"a.test:5432"}}, []string{`network.tcp: "a.test:5432"`}},
		{"private flag", Config{AllowPrivate: []string{"a.test"}}, []string{`network.allow_private: "a.test"`, "private"}},
		{"other IP", Config{Allow: []string{"127.0.0.2:8080"}}, []string{`"127.0.0.2:8080"`}},
		{"name for IP rule", Config{Allow: []string{"localhost:8080"}}, []string{`"localhost:8080"`}},
		{"preset", Config{Presets: []string{"package-registries"}}, []string{`network.presets: "package-registries"`}},
		{"mode", Config{Mode: ModeFull}, []string{`network.mode`, `"full"`}},
		{"ask", Config{Unlisted: UnlistedAsk}, []string{`network.unlisted`, `"ask"`}},
		{"extra CA", Config{ExtraCA: "/ws/evil-ca.pem"}, []string{`network.extra_ca: "/ws/evil-ca.pem"`, "trust"}},
		{"several", Config{Mode: ModeFull, Allow: []string{"x.test"}}, []string{"network.mode", `"x.test"`}},
		{"invalid", Config{Allow: []string{"a b"}}, []string{"less trusted", "invalid"}},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			_, err := base.Tighten(tt.less)
			if err == nil {
				t.Fatalf("Tighten(%+v) = nil error; want a refusal", tt.less)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Tighten error %q; want it to contain %q", err, w)
				}
			}
		})
	}
	t.Run("ask may become deny", func(t *testing.T) {
		askBase := base
		askBase.Unlisted = UnlistedAsk
		got, err := askBase.Tighten(Config{Unlisted: UnlistedDeny})
		if err != nil || got.Unlisted != UnlistedDeny {
			t.Errorf("Tighten ask→deny = %+v, %v", got, err)
		}
	})
}
