package netproxy

import (
	"github.com/cordon-sandbox/cordon/policy/netpolicy"

	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// injector is a compiled Injection.
type injector struct {
	Injection
	hosts  func(netpolicy.Target) bool
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
		c := &injector{Injection: inj, hosts: inj.InjectHosts(), header: inj.HeaderKey()}
		switch inj.EffectiveFormat() {
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

func (c *injector) coversHost(t target) bool { return c.hosts(t) }

func (c *injector) coversPath(escapedPath string) bool {
	if len(c.Paths) == 0 {
		return true
	}
	if !netpolicy.CleanPath(escapedPath) {
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
				return nil, c.Name, fmt.Sprintf("the request carries credential %q's placeholder in %s, but %s is not one of the credential's hosts", c.Name, where, t.HostPort())
			}
		}
		if inScope && use == nil {
			use = c
		}
	}
	return use, "", ""
}

// carried names the first credential whose placeholder the request holds
// anywhere (any header, its credentials, the URL), "" for none: a request
// refused on its own account still records whose placeholder it tried to
// send.
func (is injectors) carried(h http.Header, u *url.URL) string {
	for _, c := range is {
		if placeholderIn(h, u, c.Placeholder, "") != "" {
			return c.Name
		}
	}
	return ""
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
// bytes.ReplaceAll would on the whole stream. It works in the caller's
// buffer and holds back only a tail of the stream that could begin a match
// (a prefix of old), so that a streamed response (server-sent events, a
// model's tokens) is not held up waiting for bytes that cannot matter.
type replaceReader struct {
	src      io.ReadCloser
	old, new []byte
	// next[k] is the length of the longest proper prefix of old[:k+1]
	// that is also its suffix (Knuth-Morris-Pratt), for finding the
	// tail to hold back.
	next []int
	// tail is the end of the stream read so far that could begin a match;
	// it is passed on once the following bytes show it does not.
	tail []byte
	// out is final bytes waiting for a caller whose buffer was too small
	// to work in; scratch is that work space.
	out, scratch []byte
	err          error
}

func newReplaceReader(src io.ReadCloser, old, new string) *replaceReader {
	if len(old) != len(new) || old == "" {
		panic("netproxy: replaceReader needs two strings of the same, non-zero length")
	}
	r := &replaceReader{src: src, old: []byte(old), new: []byte(new), next: make([]int, len(old))}
	for i, k := 1, 0; i < len(old); i++ {
		for k > 0 && old[i] != old[k] {
			k = r.next[k-1]
		}
		if old[i] == old[k] {
			k++
		}
		r.next[i] = k
	}
	return r
}

func (r *replaceReader) Read(p []byte) (int, error) {
	for {
		if len(r.out) > 0 {
			n := copy(p, r.out)
			r.out = r.out[n:]
			return n, nil
		}
		if r.err != nil {
			if len(r.tail) > 0 {
				// The stream ended: what was held back is final.
				n := copy(p, r.tail)
				r.tail = r.tail[n:]
				return n, nil
			}
			return 0, r.err
		}
		// The held-back tail goes first, then as much of src as fits.
		buf, small := p, len(p) <= 2*len(r.old)
		if small {
			if r.scratch == nil {
				r.scratch = make([]byte, max(4<<10, 4*len(r.old)))
			}
			buf = r.scratch
		}
		k := copy(buf, r.tail)
		n, err := r.src.Read(buf[k:])
		r.err = err
		data := buf[:k+n]
		final := r.replace(data, err != nil)
		r.tail = append(r.tail[:0], data[final:]...)
		switch {
		case small:
			r.out = data[:final]
		case final > 0:
			return final, nil
		case n == 0 && err == nil:
			return 0, nil
		}
	}
}

// replace replaces the complete matches in data and returns how many of
// its bytes are final: all of them at the end of the stream, else all but
// the longest suffix that is a prefix of old.
func (r *replaceReader) replace(data []byte, end bool) int {
	i := 0
	for {
		j := bytes.Index(data[i:], r.old)
		if j < 0 {
			break
		}
		copy(data[i+j:], r.new)
		i += j + len(r.old)
	}
	if end {
		return len(data)
	}
	// No match starts at i or later, so a suffix that is a prefix of old
	// is shorter than old and lies in the last len(old)-1 bytes; the
	// automaton's state after them is the longest such suffix.
	state := 0
	for _, b := range data[max(i, len(data)-len(r.old)+1):] {
		for state > 0 && b != r.old[state] {
			state = r.next[state-1]
		}
		if b == r.old[state] {
			state++
		}
	}
	return len(data) - state
}

func (r *replaceReader) Close() error { return r.src.Close() }
