package credentials_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/credentials"
)

func secret(t testing.TB, name, value string) credentials.Secret {
	t.Helper()
	sec, err := credentials.Resolve(credentials.Scope{Name: name, Env: "V", FromEnv: "V", Commands: [][]string{{"x"}}}, "/", []string{"V=" + value})
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func TestRedact(t *testing.T) {
	gh := secret(t, "github", "ghp_abcdefghij0123456789")
	npm := secret(t, "npm", "npm_ZZZZYYYYXXXX")
	inner := secret(t, "inner", "abcdefghij") // a substring of gh's value
	b64 := base64.StdEncoding.EncodeToString
	b64url := base64.URLEncoding.EncodeToString
	all := []credentials.Secret{gh, npm}
	for _, tc := range []struct {
		name    string
		in      string
		secrets []credentials.Secret
		want    string
	}{
		{"nothing to do", "hello", all, "hello"},
		{"no secrets", "ghp_abcdefghij0123456789", nil, "ghp_abcdefghij0123456789"},
		{"alone", "ghp_abcdefghij0123456789", all, "[redacted:github]"},
		{"in a sentence", "token is ghp_abcdefghij0123456789.", all, "token is [redacted:github]."},
		{"twice with nothing between", "ghp_abcdefghij0123456789ghp_abcdefghij0123456789", all, "[redacted:github][redacted:github]"},
		{"at both ends", "ghp_abcdefghij0123456789 x npm_ZZZZYYYYXXXX", all, "[redacted:github] x [redacted:npm]"},
		{"two secrets adjacent", "npm_ZZZZYYYYXXXXghp_abcdefghij0123456789", all, "[redacted:npm][redacted:github]"},
		{"in JSON", `{"argv":["curl","-H","Authorization: token ghp_abcdefghij0123456789"]}`, all, `{"argv":["curl","-H","Authorization: token [redacted:github]"]}`},
		{"base64", "x " + b64([]byte(gh.Value())) + " y", all, "x [redacted:github] y"},
		{"base64 url alphabet", b64url([]byte("\xff\xfe" + npm.Value())), all, ""}, // "" means: some marker, and no value
		{"base64 without padding", strings.TrimRight(b64([]byte(gh.Value())), "="), all, "[redacted:github]"},
		{"longest wins", "ghp_abcdefghij0123456789 and abcdefghij", []credentials.Secret{inner, gh}, "[redacted:github] and [redacted:inner]"},
		{"zero secret ignored", "abc", []credentials.Secret{{}}, "abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := credentials.Redact(tc.in, tc.secrets)
			switch {
			case tc.want == "" && !strings.Contains(got, "[redacted:"):
				t.Errorf("Redact(%q) = %q, redacted nothing", tc.in, got)
			case tc.want != "" && got != tc.want:
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, s := range tc.secrets {
				if s.Value() != "" && strings.Contains(got, s.Value()) {
					t.Errorf("Redact(%q) = %q still holds %s", tc.in, got, s.Name)
				}
			}
		})
	}
}

// TestRedactBase64Embedded: the value inside a longer base64 text, at each
// of the three byte alignments, as in an HTTP Basic credential.
func TestRedactBase64Embedded(t *testing.T) {
	gh := secret(t, "github", "ghp_abcdefghij0123456789")
	for _, prefix := range []string{"", "x", "xy", "x-access-token:", "user:", "u:"} {
		for _, suffix := range []string{"", "!", "!!", "\n"} {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				plain := prefix + gh.Value() + suffix
				encoded := enc.EncodeToString([]byte(plain))
				line := "Authorization: Basic " + encoded
				got := credentials.Redact(line, []credentials.Secret{gh})
				if !strings.Contains(got, "[redacted:github]") {
					t.Errorf("%q (base64 of %q) was not redacted: %q", line, plain, got)
					continue
				}
				// What is left around the marker is the encoding of the prefix
				// and the suffix, and at most the few characters that mix
				// their bits with the value's.
				before, after, _ := strings.Cut(strings.TrimPrefix(got, "Authorization: Basic "), "[redacted:github]")
				if len(before) > (len(prefix)*4+2)/3+3 || len(after) > (len(suffix)*4+2)/3+4 {
					t.Errorf("%q: too much of the encoding is left: %q", plain, got)
				}
			}
		}
	}
}

// TestRedactAudit: an audit event that carried a value, redacted field by
// field, holds none.
func TestRedactAudit(t *testing.T) {
	value := canary(t)
	sec := secret(t, "github", value)
	ev := audit.CommandRequested{Argv: []string{"curl", "-H", "Authorization: Bearer " + value}, Cwd: "/w"}
	for i := range ev.Argv {
		ev.Argv[i] = credentials.Redact(ev.Argv[i], []credentials.Secret{sec})
	}
	if strings.Contains(strings.Join(ev.Argv, " "), value) || ev.Argv[2] != "Authorization: Bearer [redacted:github]" {
		t.Errorf("argv after redaction: %q", ev.Argv)
	}
}

func TestEvent(t *testing.T) {
	s := github()
	s.Source = "/home/u/.config/cordon/policy.toml"
	ev := credentials.Event(s, 0, "policy")
	want := audit.Decision{Decision: "ask", Subject: "credential", Target: "github",
		Rule: `/home/u/.config/cordon/policy.toml: credentials "github"`, Category: cmdpolicy.CategorySecretAccess,
		Decider: "policy", Reason: "gh needs it to talk to GitHub"}
	if ev != want {
		t.Errorf("Event = %+v\nwant    %+v", ev, want)
	}
	if ev.Kind() != audit.KindDecision {
		t.Errorf("kind %v", ev.Kind())
	}
	s.Reason, s.Source = "", ""
	ev = credentials.Event(s, cmdpolicy.Allow, "grant")
	if ev.Decision != "allow" || ev.Decider != "grant" || ev.Rule != `credentials "github"` || !strings.Contains(ev.Reason, "GITHUB_TOKEN") {
		t.Errorf("Event = %+v", ev)
	}
}

// FuzzRedact: whatever surrounds it, a value without brackets never
// survives redaction.
func FuzzRedact(f *testing.F) {
	f.Add("prefix ", " suffix", "ghp_abcdefghij0123456789", 1)
	f.Add("", "", "abcdefgh", 3)
	f.Add("abcdefg", "h", "abcdefgh", 2)
	f.Fuzz(func(t *testing.T, before, after, value string, times int) {
		if len(value) < 8 || len(value) > 200 || strings.ContainsAny(value, "[]\x00") || times < 1 || times > 4 {
			return
		}
		sec, err := credentials.Resolve(credentials.Scope{Name: "s", Env: "V", FromEnv: "V", Commands: [][]string{{"x"}}}, "/", []string{"V=" + value})
		if err != nil {
			return // a value Resolve refuses (a trailing newline is trimmed, say)
		}
		v := sec.Value()
		in := before + strings.Repeat(v, times) + after
		got := credentials.Redact(in, []credentials.Secret{sec})
		if strings.Contains(got, v) {
			t.Fatalf("Redact(%q) = %q still holds the value", in, got)
		}
	})
}

// FuzzResolveErrors: whatever the value and wherever it comes from, an error
// never holds it. The value is wrapped in canaries no message holds by
// chance, so a leak of its start or its end is seen too.
func FuzzResolveErrors(f *testing.F) {
	f.Add([]byte("secret"), uint16(0o600), false)
	f.Add([]byte("s\x00ecret"), uint16(0o600), false)
	f.Add([]byte(""), uint16(0o644), true)
	f.Add([]byte("x\n"), uint16(0o640), false)
	f.Fuzz(func(t *testing.T, content []byte, mode uint16, fromEnv bool) {
		head, tail := canary(t), canary(t)
		value := head + string(content) + tail
		var err error
		if fromEnv {
			_, err = credentials.Resolve(envScope("V"), "/", []string{"V=" + value})
		} else {
			p := writeFuzzSecret(t, value, mode)
			_, err = credentials.Resolve(fileScope(p), "/", nil)
		}
		if err != nil && (strings.Contains(err.Error(), head) || strings.Contains(err.Error(), tail)) {
			t.Fatalf("the error holds the value: %v", err)
		}
	})
}
