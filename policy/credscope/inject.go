package credscope

import (
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

// Injection returns the proxy's view of in, without the credential's name,
// placeholder and secret, which the run adds.
func (in *Inject) Injection() netpolicy.Injection {
	return netpolicy.Injection{Hosts: in.Hosts, Paths: in.Paths, Header: in.Header, ValueFormat: in.Format, User: in.User}
}

// validate checks an inject table; label names the entry.
func (in *Inject) validate(label string) []error {
	err := in.Injection().Validate()
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
