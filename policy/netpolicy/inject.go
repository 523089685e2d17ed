package netpolicy

import (
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"slices"
	"strings"
)

// Formats of an injected header, for requests that do not carry it.
const (
	FormatBearer = "bearer" // Authorization: Bearer SECRET
	FormatBasic  = "basic"  // Authorization: Basic base64(USER:SECRET)
	FormatRaw    = "raw"    // HEADER: SECRET
)

// DefaultBasicUser is the user name of FormatBasic when none is given:
// what GitHub and GitLab accept with a token as the password.
const DefaultBasicUser = "x-access-token"

// Injection puts one credential's secret into a header of the requests to
// the hosts (and paths) it names. The sandboxed command holds Placeholder
// only; the proxy, outside, swaps it for Secret in those requests, adds the
// header when a request lacks it, and refuses a request that carries the
// placeholder anywhere else. Its hosts are intercepted: the proxy ends the
// client's TLS with a certificate from its CA and opens its own, verified
// TLS connection to the host.
//
// Printing an Injection (fmt, any verb) never shows Secret, and JSON leaves
// it out.
type Injection struct {
	// Name is the credential's name, for events and messages.
	Name string `json:"name"`
	// Hosts are written as network.allow entries are (NAME, *.SUFFIX or an
	// IP address, each with an optional :PORT). Without a port an entry
	// covers port 443 only: a secret is never sent over plain HTTP.
	Hosts []string `json:"hosts"`
	// Paths are URL path prefixes, each starting with "/"; empty means
	// every path. A request whose path holds dot segments or encoded
	// slashes or dots is outside every prefix.
	Paths []string `json:"paths,omitempty"`
	// Header carries the secret; empty means Authorization.
	Header string `json:"header,omitempty"`
	// ValueFormat is how the header is written when a request lacks it:
	// FormatBearer, FormatBasic or FormatRaw. Empty means bearer for
	// Authorization and raw for any other header.
	ValueFormat string `json:"format,omitempty"`
	// User is FormatBasic's user name; empty means DefaultBasicUser.
	User string `json:"user,omitempty"`
	// Placeholder is what the sandboxed command was given instead of the
	// secret; at least 8 bytes.
	Placeholder string `json:"placeholder"`
	// Secret is the credential's value.
	Secret string `json:"-"`
}

// String names the injection without its secret.
func (inj Injection) String() string {
	return fmt.Sprintf("injection %q (%s into %s)", inj.Name, inj.HeaderKey(), strings.Join(inj.Hosts, ", "))
}

// GoString keeps %#v from printing the secret.
func (inj Injection) GoString() string { return inj.String() }

// Format keeps every fmt verb from printing the secret.
func (inj Injection) Format(f fmt.State, _ rune) { io.WriteString(f, inj.String()) }

// HeaderKey is the canonical name of the header that carries the secret.
func (inj Injection) HeaderKey() string {
	if inj.Header == "" {
		return "Authorization"
	}
	return textproto.CanonicalMIMEHeaderKey(inj.Header)
}

// EffectiveFormat is ValueFormat with its default applied.
func (inj Injection) EffectiveFormat() string {
	switch {
	case inj.ValueFormat != "":
		return inj.ValueFormat
	case inj.HeaderKey() == "Authorization":
		return FormatBearer
	}
	return FormatRaw
}

// headersNotInjected carry the request's framing or its route, or concern
// one connection only; a secret there would be dropped, break the request,
// or reach the wrong party.
var headersNotInjected = []string{
	"Host", "Content-Length", "Transfer-Encoding", "Connection", "Proxy-Connection", "Keep-Alive",
	"Proxy-Authorization", "Proxy-Authenticate", "Te", "Trailer", "Upgrade", "Expect",
	"Content-Type", "Content-Encoding",
}

// Validate checks the parts of an Injection a policy writes (hosts, paths,
// header, format, user), reporting every problem. Each error starts with
// the key it is about: "inject.hosts[0] ...".
func (inj Injection) Validate() error {
	var errs []error
	if len(inj.Hosts) == 0 {
		errs = append(errs, errors.New(`inject.hosts is empty: name the hosts the secret is for, as ["api.github.com"]`))
	}
	for i, h := range inj.Hosts {
		if _, err := parseInjectHost(fmt.Sprintf("inject.hosts[%d]", i), h); err != nil {
			errs = append(errs, err)
		}
	}
	for i, p := range inj.Paths {
		if err := validPathPrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("inject.paths[%d] %q: %w", i, p, err))
		}
	}
	if h := inj.Header; h != "" {
		if !validHeaderName(h) {
			errs = append(errs, fmt.Errorf("inject.header %q: not a header name (letters, digits and !#$%%&'*+-.^_`|~)", h))
		} else if slices.Contains(headersNotInjected, textproto.CanonicalMIMEHeaderKey(h)) {
			errs = append(errs, fmt.Errorf("inject.header %q: this header frames or routes the request; cordon does not put a secret there", h))
		}
	}
	switch inj.ValueFormat {
	case "", FormatBearer, FormatBasic, FormatRaw:
	default:
		errs = append(errs, fmt.Errorf("inject.format %q: valid formats are %q (Bearer SECRET), %q (Basic, USER:SECRET) and %q (the secret alone)", inj.ValueFormat, FormatBearer, FormatBasic, FormatRaw))
	}
	if inj.User != "" {
		switch {
		case inj.EffectiveFormat() != FormatBasic:
			errs = append(errs, fmt.Errorf("inject.user %q: only format %q takes a user name", inj.User, FormatBasic))
		case strings.ContainsAny(inj.User, ":\r\n\x00"):
			errs = append(errs, fmt.Errorf("inject.user %q: a Basic user name may not hold ':' or control characters", inj.User))
		}
	}
	return errors.Join(errs...)
}

// InjectHosts compiles the hosts of an Injection that Validate accepted
// into a matcher of destinations.
func (inj Injection) InjectHosts() func(Target) bool {
	var ps []pattern
	for i, h := range inj.Hosts {
		if p, err := parseInjectHost(fmt.Sprintf("inject.hosts[%d]", i), h); err == nil {
			ps = append(ps, p)
		}
	}
	return func(t Target) bool {
		for _, p := range ps {
			if p.matches(t) {
				return true
			}
		}
		return false
	}
}

func parseInjectHost(key, entry string) (pattern, error) {
	p, err := parsePattern(key, entry, kindAllow)
	if err != nil {
		return p, err
	}
	if _, port, err := SplitHostPort(entry, -1); err == nil && port == -1 {
		p.ports = []int{443} // no port written: HTTPS only
	}
	if slices.Contains(p.ports, 80) {
		return p, configError(key, entry, "port 80 is plain HTTP, where the secret would cross the network readable; cordon injects only into TLS connections")
	}
	return p, nil
}

// validPathPrefix accepts "/" followed by path characters, without dot
// segments, empty segments, percent-encoding, query or fragment: a prefix
// the proxy compares with the raw request path.
func validPathPrefix(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New(`must start with "/"`)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c < 0x21 || c > 0x7e:
			return fmt.Errorf("holds the byte 0x%02x; write the path in ASCII without spaces", c)
		case c == '%' || c == '?' || c == '#' || c == '\\':
			return fmt.Errorf("holds %q; write a plain path prefix, as \"/repos/acme/\"", c)
		}
	}
	if !CleanPath(p) {
		return errors.New(`holds an empty, "." or ".." segment`)
	}
	return nil
}

// CleanPath reports whether an escaped request path has no empty, "." or
// ".." segment and no encoded dot, slash or backslash: a path every server
// resolves the same way, so that a prefix check on it holds at the server.
func CleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return false
	}
	lower := strings.ToLower(p)
	if strings.Contains(lower, "%2e") || strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%00") {
		return false
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "." || s == ".." || s == "" && i < len(segs)-1 {
			return false
		}
	}
	return true
}

func validHeaderName(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return h != ""
}
