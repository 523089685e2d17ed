package netproxy

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
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
	return fmt.Sprintf("injection %q (%s into %s)", inj.Name, inj.header(), strings.Join(inj.Hosts, ", "))
}

// GoString keeps %#v from printing the secret.
func (inj Injection) GoString() string { return inj.String() }

// Format keeps every fmt verb from printing the secret.
func (inj Injection) Format(f fmt.State, _ rune) { io.WriteString(f, inj.String()) }

func (inj Injection) header() string {
	if inj.Header == "" {
		return "Authorization"
	}
	return textproto.CanonicalMIMEHeaderKey(inj.Header)
}

func (inj Injection) format() string {
	switch {
	case inj.ValueFormat != "":
		return inj.ValueFormat
	case inj.header() == "Authorization":
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
		case inj.format() != FormatBasic:
			errs = append(errs, fmt.Errorf("inject.user %q: only format %q takes a user name", inj.User, FormatBasic))
		case strings.ContainsAny(inj.User, ":\r\n\x00"):
			errs = append(errs, fmt.Errorf("inject.user %q: a Basic user name may not hold ':' or control characters", inj.User))
		}
	}
	return errors.Join(errs...)
}

func parseInjectHost(key, entry string) (pattern, error) {
	p, err := parsePattern(key, entry, kindAllow)
	if err != nil {
		return p, err
	}
	if _, port, err := splitHostPort(entry, -1); err == nil && port == -1 {
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
	if !cleanPath(p) {
		return errors.New(`holds an empty, "." or ".." segment`)
	}
	return nil
}

// cleanPath reports whether an escaped request path has no empty, "." or
// ".." segment and no encoded dot, slash or backslash: a path every server
// resolves the same way, so that a prefix check on it holds at the server.
func cleanPath(p string) bool {
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

// injector is a compiled Injection.
type injector struct {
	Injection
	hosts  []pattern
	header string // canonical
	value  string // the header's value for a request that lacks it
}

func compileInjections(list []Injection) ([]*injector, error) {
	var out []*injector
	var errs []error
	for _, inj := range list {
		var ierr []error
		if err := inj.Validate(); err != nil {
			ierr = append(ierr, err)
		}
		switch {
		case len(inj.Placeholder) < 8:
			ierr = append(ierr, errors.New("the placeholder is shorter than 8 bytes"))
		case len(inj.Secret) < 8:
			ierr = append(ierr, errors.New("the secret is shorter than 8 bytes"))
		case strings.Contains(inj.Secret, inj.Placeholder) || strings.Contains(inj.Placeholder, inj.Secret):
			ierr = append(ierr, errors.New("the placeholder and the secret overlap"))
		case strings.ContainsAny(inj.Secret, "\r\n\x00"):
			ierr = append(ierr, errors.New("the secret holds a line break or NUL, which no header can carry"))
		}
		for _, o := range out {
			if o.Placeholder == inj.Placeholder {
				ierr = append(ierr, fmt.Errorf("the placeholder is also credential %q's", o.Name))
			}
		}
		if err := errors.Join(ierr...); err != nil {
			errs = append(errs, fmt.Errorf("credential %q: %w", inj.Name, err))
			continue
		}
		c := &injector{Injection: inj, header: inj.header()}
		for i, h := range inj.Hosts {
			p, _ := parseInjectHost(fmt.Sprintf("inject.hosts[%d]", i), h)
			c.hosts = append(c.hosts, p)
		}
		switch inj.format() {
		case FormatBearer:
			c.value = "Bearer " + inj.Secret
		case FormatBasic:
			user := inj.User
			if user == "" {
				user = DefaultBasicUser
			}
			c.value = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+inj.Secret))
		default:
			c.value = inj.Secret
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

func (c *injector) coversHost(t target) bool {
	for _, p := range c.hosts {
		if p.matches(t) {
			return true
		}
	}
	return false
}

func (c *injector) coversPath(escapedPath string) bool {
	if len(c.Paths) == 0 {
		return true
	}
	if !cleanPath(escapedPath) {
		return false
	}
	for _, p := range c.Paths {
		if strings.HasPrefix(escapedPath, p) {
			return true
		}
	}
	return false
}

// injectors are a server's compiled injections.
type injectors []*injector

// intercepts reports whether connections to t are intercepted.
func (is injectors) intercepts(t target) bool {
	for _, c := range is {
		if c.coversHost(t) {
			return true
		}
	}
	return false
}

// check judges one request to t before it is sent: it returns the injector
// whose secret goes into it (nil for none), or the credential whose
// placeholder the request carries where it may not, with the reason. t is
// nil for a plain HTTP request, where nothing is ever injected.
func (is injectors) check(h http.Header, u *url.URL, t *target) (use *injector, refusedBy, reason string) {
	path := u.EscapedPath()
	for _, c := range is {
		inScope := t != nil && c.coversHost(*t) && c.coversPath(path)
		skip := ""
		if inScope {
			skip = c.header
		}
		if where := placeholderIn(h, u, c.Placeholder, skip); where != "" {
			switch {
			case inScope:
				return nil, c.Name, fmt.Sprintf("the request carries credential %q's placeholder in %s; only the %s header is given the secret", c.Name, where, c.header)
			case t == nil:
				return nil, c.Name, fmt.Sprintf("the request carries credential %q's placeholder in %s; the secret is injected only into HTTPS requests to the credential's hosts", c.Name, where)
			case c.coversHost(*t):
				return nil, c.Name, fmt.Sprintf("the request carries credential %q's placeholder in %s, but its path %s is outside the credential's paths", c.Name, where, strconv.Quote(truncate(path, 200)))
			default:
				return nil, c.Name, fmt.Sprintf("the request carries credential %q's placeholder in %s, but %s is not one of the credential's hosts", c.Name, where, t.hostPort())
			}
		}
		if inScope && use == nil {
			use = c
		}
	}
	return use, "", ""
}

// inject puts c's secret into h: in place of the placeholder wherever the
// header holds it (also inside Basic credentials), or as the whole header
// when the request lacks it. A header the client set without the
// placeholder is its own and stays as it is; inject then reports false.
func (c *injector) inject(h http.Header) bool {
	vals := h.Values(c.header)
	if len(vals) == 0 {
		h.Set(c.header, c.value)
		return true
	}
	swapped := false
	out := make([]string, len(vals))
	for i, v := range vals {
		nv, ok := swapValue(v, c.Placeholder, c.Secret)
		out[i] = nv
		swapped = swapped || ok
	}
	if swapped {
		h[c.header] = out
	}
	return swapped
}

// swapValue replaces placeholder by secret in one header value, also
// inside Basic credentials (base64 of user:password).
func swapValue(v, placeholder, secret string) (string, bool) {
	if strings.Contains(v, placeholder) {
		return strings.ReplaceAll(v, placeholder, secret), true
	}
	if dec, ok := basicCredentials(v); ok && strings.Contains(dec, placeholder) {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(dec, placeholder, secret))), true
	}
	return v, false
}

// basicCredentials decodes "Basic BASE64".
func basicCredentials(v string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	dec, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
			return "", false
		}
	}
	return string(dec), true
}

// placeholderIn says where the request carries placeholder: a header
// other than skip (its value, Basic credentials in it, or its name), or the
// URL (raw or decoded). "" when nowhere.
func placeholderIn(h http.Header, u *url.URL, placeholder, skip string) string {
	for name, vals := range h {
		if name == skip {
			continue
		}
		if strings.Contains(name, placeholder) {
			return "a header name"
		}
		for _, v := range vals {
			if strings.Contains(v, placeholder) {
				return fmt.Sprintf("the %s header", headerSafe(truncate(name, 64)))
			}
			if dec, ok := basicCredentials(v); ok && strings.Contains(dec, placeholder) {
				return fmt.Sprintf("the Basic credentials of the %s header", headerSafe(truncate(name, 64)))
			}
		}
	}
	if u != nil {
		raw := u.RequestURI()
		dec, _ := url.PathUnescape(raw)
		qdec, _ := url.QueryUnescape(u.RawQuery)
		if strings.Contains(raw, placeholder) || strings.Contains(dec, placeholder) || strings.Contains(qdec, placeholder) ||
			u.User != nil && strings.Contains(u.User.String(), placeholder) {
			return "the URL"
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// scrubHeader replaces secret by mask (of the same length) in every value
// of h, so that a server echoing the request cannot hand the secret to the
// sandbox in a response header.
func scrubHeader(h http.Header, secret, mask string) {
	for name, vals := range h {
		for i, v := range vals {
			if strings.Contains(v, secret) {
				h[name][i] = strings.ReplaceAll(v, secret, mask)
			}
		}
	}
}

// replaceReader streams src with every occurrence of old replaced by new,
// which has the same length (so a Content-Length stays right), exactly as
// bytes.ReplaceAll would on the whole stream.
type replaceReader struct {
	src      io.ReadCloser
	old, new []byte
	buf      []byte
	// settled is how many bytes at the start of buf are final: no match
	// can start among them any more.
	settled int
	err     error
}

func newReplaceReader(src io.ReadCloser, old, new string) *replaceReader {
	if len(old) != len(new) || old == "" {
		panic("netproxy: replaceReader needs two strings of the same, non-zero length")
	}
	return &replaceReader{src: src, old: []byte(old), new: []byte(new)}
}

const replaceChunk = 128 << 10

func (r *replaceReader) Read(p []byte) (int, error) {
	for r.settled == 0 {
		if r.err != nil {
			if len(r.buf) == 0 {
				return 0, r.err
			}
			r.settled = len(r.buf)
			break
		}
		r.fill()
	}
	n := copy(p, r.buf[:r.settled])
	r.buf = r.buf[n:]
	r.settled -= n
	return n, nil
}

// fill reads more of src behind the unsettled bytes and replaces the
// matches that are now complete.
func (r *replaceReader) fill() {
	if cap(r.buf)-len(r.buf) < replaceChunk {
		nb := make([]byte, len(r.buf), len(r.buf)+2*replaceChunk)
		copy(nb, r.buf)
		r.buf = nb
	}
	n, err := r.src.Read(r.buf[len(r.buf) : len(r.buf)+replaceChunk])
	r.buf = r.buf[:len(r.buf)+n]
	r.err = err
	i := 0
	for {
		j := bytes.Index(r.buf[i:], r.old)
		if j < 0 {
			break
		}
		copy(r.buf[i+j:], r.new)
		i += j + len(r.old)
	}
	// A match may still start in the last len(old)-1 bytes, but not
	// before them, nor inside a match just replaced.
	r.settled = max(i, len(r.buf)-(len(r.old)-1))
	if r.err != nil {
		r.settled = len(r.buf)
	}
}

func (r *replaceReader) Close() error { return r.src.Close() }
