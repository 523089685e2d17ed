package credentials

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// Inject keeps a credential's secret outside the sandbox: the command gets
// a placeholder in its variable, and cordon's proxy puts the secret into a
// header of the requests to the hosts (and paths) named here, and only
// there:
//
//	[credentials.inject]
//	hosts = ["api.github.com", "github.com"]   # as network.allow entries; port 443 unless given
//	paths = ["/repos/acme/"]                    # optional URL path prefixes
//	header = "Authorization"                    # the default
//	format = "bearer"                           # bearer (default for Authorization), basic, raw
//	user = "x-access-token"                     # basic only
type Inject struct {
	Hosts  []string `toml:"hosts,omitempty" json:"hosts,omitempty"`
	Paths  []string `toml:"paths,omitempty" json:"paths,omitempty"`
	Header string   `toml:"header,omitempty" json:"header,omitempty"`
	Format string   `toml:"format,omitempty" json:"format,omitempty"`
	User   string   `toml:"user,omitempty" json:"user,omitempty"`
}

func (in *Inject) clone() *Inject {
	if in == nil {
		return nil
	}
	c := *in
	c.Hosts, c.Paths = slices.Clone(in.Hosts), slices.Clone(in.Paths)
	return &c
}

func (in *Inject) injection() netpolicy.Injection {
	return netpolicy.Injection{Hosts: in.Hosts, Paths: in.Paths, Header: in.Header, ValueFormat: in.Format, User: in.User}
}

// validate checks an inject table; label names the entry.
func (in *Inject) validate(label string) []error {
	err := in.injection().Validate()
	if err == nil {
		return nil
	}
	var errs []error
	for _, e := range leaves(err) {
		errs = append(errs, fmt.Errorf("%s: %w", label, e))
	}
	return errs
}

func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// narrows reports what in, written in a less-trusted layer, adds to base:
// it may name only base's hosts, and only paths within base's paths; it
// may not set the header, format or user.
func (in *Inject) narrows(base *Inject, label string) []error {
	var errs []error
	if base == nil {
		return []error{fmt.Errorf("%s.inject: the credential is handed over in its variable; a less-trusted layer may not change how its secret is given", label)}
	}
	if in.Header != "" || in.Format != "" || in.User != "" {
		errs = append(errs, fmt.Errorf("%s.inject: a less-trusted layer may narrow hosts and paths only, not set header, format or user", label))
	}
	if in.Hosts != nil && len(in.Hosts) == 0 {
		errs = append(errs, fmt.Errorf("%s.inject.hosts is empty; to withdraw the credential, set remove = true", label))
	}
	for j, h := range in.Hosts {
		if !slices.Contains(base.Hosts, h) {
			errs = append(errs, fmt.Errorf("%s.inject.hosts[%d] %q: adds a host; each must be one of the credential's own hosts, written the same way", label, j, h))
		}
	}
	for j, p := range in.Paths {
		if len(base.Paths) > 0 && !slices.ContainsFunc(base.Paths, func(b string) bool { return strings.HasPrefix(p, b) }) {
			errs = append(errs, fmt.Errorf("%s.inject.paths[%d] %q: is not within the credential's paths %q", label, j, p, base.Paths))
		}
	}
	return errs
}

// NewInjection makes what a run needs to keep s's secret outside the
// sandbox: the proxy's Injection (with a fresh placeholder and the secret)
// and the command's variable, "ENV=PLACEHOLDER". s must have inject.
func NewInjection(s Scope, sec Secret) (netpolicy.Injection, string, error) {
	if s.Inject == nil {
		return netpolicy.Injection{}, "", fmt.Errorf("credential %q: has no inject table", s.Name)
	}
	ph, err := Placeholder(sec)
	if err != nil {
		return netpolicy.Injection{}, "", fmt.Errorf("credential %q: %w", s.Name, err)
	}
	inj := s.Inject.injection()
	inj.Name, inj.Placeholder, inj.Secret = s.Name, ph, sec.value
	return inj, s.Env + "=" + ph, nil
}

const placeholderAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Placeholder returns a fresh random stand-in for sec's value, of the same
// length, keeping the value's kind prefix (ghp_, github_pat_, glpat-,
// sk-ant-, npm_, xoxb-, ...) so that tools checking a token's shape accept
// it. The rest is drawn from crypto/rand. It reveals the value's length and
// prefix, nothing else.
func Placeholder(sec Secret) (string, error) {
	v := sec.value
	if len(v) < minSecretLen {
		return "", errors.New("the secret is too short for a placeholder")
	}
	prefix := tokenPrefix(v)
	if len(v)-len(prefix) < minSecretLen {
		prefix = ""
	}
	n := len(v) - len(prefix)
	for range 4 {
		b := make([]byte, 0, len(v))
		b = append(b, prefix...)
		var r [1]byte
		for len(b) < len(v) {
			if _, err := rand.Read(r[:]); err != nil {
				return "", fmt.Errorf("drawing a placeholder: %w", err)
			}
			// 248 = 4·62: reject the rest, so every character is equally likely.
			if r[0] < 248 {
				b = append(b, placeholderAlphabet[int(r[0])%len(placeholderAlphabet)])
			}
		}
		if ph := string(b); ph != v && n > 0 {
			return ph, nil
		}
	}
	return "", errors.New("could not draw a placeholder that differs from the secret")
}

// tokenPrefix returns the leading kind marker of a token: up to three
// segments, each a letter and then up to nine letters or digits, each
// ended by '_' or '-', and at most half the token.
func tokenPrefix(v string) string {
	i := 0
	for seg := 0; seg < 3; seg++ {
		j := i
		if j >= len(v) || !isLetter(v[j]) {
			break
		}
		j++
		for j < len(v) && j-i < 10 && (isLetter(v[j]) || v[j] >= '0' && v[j] <= '9') {
			j++
		}
		if j >= len(v) || v[j] != '_' && v[j] != '-' {
			break
		}
		i = j + 1
	}
	if i > len(v)/2 {
		return ""
	}
	return v[:i]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
