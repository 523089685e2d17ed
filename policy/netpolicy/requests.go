package netpolicy

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Decisions a RequestRule can make.
const (
	RequestAllow = "allow"
	RequestAsk   = "ask"
	RequestDeny  = "deny"
)

// RequestRule is one `[[network.requests]]` entry: it decides the HTTP
// requests to one host by method and path. The proxy sees requests only on
// connections it can read: HTTPS to hosts a credential is injected into
// (which it intercepts) and plain HTTP. A tunnel to a host a rule governs
// that no credential intercepts is refused, since its requests cannot be
// judged.
//
// Deciding: a matching deny rule always wins; otherwise the first matching
// rule, in the order written, decides; a request no rule matches is
// allowed (the host itself is allowed by network.allow). End a host's
// rules with a catch-all ask or deny to allow only what is listed.
type RequestRule struct {
	// Name names the rule in questions, refusals and the audit trail.
	Name string `toml:"name,omitempty" json:"name,omitempty"`
	// Host is written as a network.allow entry is (NAME, *.SUFFIX or an IP
	// address, with an optional :PORT); without a port it covers ports 80
	// and 443.
	Host string `toml:"host" json:"host"`
	// Methods are HTTP methods, compared without regard to case; empty
	// means every method.
	Methods []string `toml:"methods,omitempty" json:"methods,omitempty"`
	// Path is a glob of the URL path, without the query: "*" matches any
	// run of characters within one segment, a whole segment "**" any
	// number of segments (none included). Compared without regard to
	// case, after percent-decoding, ignoring one trailing "/". Empty means
	// every path.
	Path string `toml:"path,omitempty" json:"path,omitempty"`
	// Decision is allow, ask or deny.
	Decision string `toml:"decision" json:"decision"`
	// Reason says why, for questions and refusals.
	Reason string `toml:"reason,omitempty" json:"reason,omitempty"`
}

const keyRequests = "network.requests"

// label names a rule in decisions: by its name, or, lacking one, by what
// it says (an index would change when layers are merged).
func (rr RequestRule) label() string {
	if rr.Name != "" {
		return keyRequests + " " + strconv.Quote(rr.Name)
	}
	s := keyRequests + " {host " + strconv.Quote(rr.Host)
	if len(rr.Methods) > 0 {
		s += ", methods " + strings.Join(rr.Methods, "|")
	}
	if rr.Path != "" {
		s += ", path " + strconv.Quote(rr.Path)
	}
	return s + ", " + rr.Decision + "}"
}

// requestRule is a compiled RequestRule.
type requestRule struct {
	label   string // `network.requests[1] "merge"`
	host    pattern
	methods []string // upper case; nil: every method
	path    []string // lower-case segments; nil: every path
	verdict Verdict
	reason  string
}

func compileRequestRule(i int, rr RequestRule) (requestRule, []error) {
	key := fmt.Sprintf("%s[%d]", keyRequests, i)
	c := requestRule{label: rr.label(), reason: rr.Reason}
	var errs []error
	if rr.Host == "" {
		errs = append(errs, keyErrorf(key+".host", `is empty: name the host the rule is for, as "api.github.com"`))
	} else if p, err := parsePattern(key+".host", rr.Host, kindAllow); err != nil {
		errs = append(errs, err)
	} else {
		c.host = p
	}
	for j, m := range rr.Methods {
		if !validHeaderName(m) { // a method is a token, as a header name is
			errs = append(errs, configError(fmt.Sprintf("%s.methods[%d]", key, j), m, `not an HTTP method; write methods as "GET", "PUT" or "DELETE"`))
			continue
		}
		c.methods = append(c.methods, strings.ToUpper(m))
	}
	if rr.Methods != nil && len(rr.Methods) == 0 {
		errs = append(errs, keyErrorf(key+".methods", "is empty, which matches no request; leave methods out to match every method"))
	}
	if rr.Path != "" {
		segs, err := parsePathGlob(rr.Path)
		if err != nil {
			errs = append(errs, configError(key+".path", rr.Path, err.Error()))
		}
		c.path = segs
	}
	switch rr.Decision {
	case RequestAllow:
		c.verdict = Allow
	case RequestAsk:
		c.verdict = Ask
	case RequestDeny:
		c.verdict = Deny
	case "":
		errs = append(errs, keyErrorf(key+".decision", `is missing: write "allow", "ask" or "deny"`))
	default:
		errs = append(errs, configError(key+".decision", rr.Decision, `valid decisions are "allow", "ask" and "deny"`))
	}
	if strings.ContainsAny(rr.Name+rr.Reason, "\r\n\x00") {
		errs = append(errs, keyErrorf(key+".name", "the name and reason may not hold line breaks or NUL"))
	}
	return c, errs
}

// parsePathGlob splits a path glob into lower-case segments.
func parsePathGlob(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New(`must start with "/", as "/repos/*/*/pulls/*/merge"`)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c < 0x21 || c > 0x7e:
			return nil, fmt.Errorf("holds the byte 0x%02x; write the path in ASCII without spaces", c)
		case c == '%' || c == '?' || c == '#' || c == '\\':
			return nil, fmt.Errorf("holds %q; write a plain, decoded path glob without a query", c)
		}
	}
	segs := splitPath(strings.ToLower(p))
	for _, s := range segs {
		switch {
		case s == "" || s == "." || s == "..":
			return nil, errors.New(`holds an empty, "." or ".." segment`)
		case strings.Contains(s, "**") && s != "**":
			return nil, errors.New(`"**" must be a whole segment, as "/repos/**"`)
		}
	}
	return segs, nil
}

// splitPath splits a path that starts with "/" into its segments, ignoring
// one trailing "/"; "/" itself has none.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return []string{}
	}
	return strings.Split(p, "/")
}

// matchSegments reports whether the glob segments g match the path
// segments s.
func matchSegments(g, s []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for len(g) > 0 && g[0] == "**" {
				g = g[1:]
			}
			if len(g) == 0 {
				return true
			}
			for i := range s {
				if matchSegments(g, s[i:]) {
					return true
				}
			}
			return false
		}
		if len(s) == 0 || !matchSegment(g[0], s[0]) {
			return false
		}
		g, s = g[1:], s[1:]
	}
	return len(s) == 0
}

// matchSegment matches one segment against a glob where "*" matches any
// run of characters.
func matchSegment(g, s string) bool {
	star := strings.IndexByte(g, '*')
	if star < 0 {
		return g == s
	}
	if !strings.HasPrefix(s, g[:star]) {
		return false
	}
	s = s[star:]
	rest := g[star+1:]
	for i := 0; i <= len(s); i++ {
		if matchSegment(rest, s[i:]) {
			return true
		}
	}
	return false
}

// RequestDecision is the policy's answer for one request.
type RequestDecision struct {
	Verdict Verdict
	// Rule names the rule that decided, as `network.requests[1] "merge"`;
	// empty when none matched (then the request is allowed) or when the
	// path could not be judged.
	Rule string
	// Reason says why, in a sentence, for refusals and asks; it names the
	// method and path, never a query or a body.
	Reason string
	// Fix says what to change in the policy, for refusals.
	Fix string
}

// GovernsRequests reports whether some request rule covers t (a host and
// port): then its requests must be judged, and a tunnel to it that the
// proxy cannot read is refused.
func (r *Rules) GovernsRequests(t Target) bool {
	for i := range r.requests {
		if r.requests[i].host.matches(t) {
			return true
		}
	}
	return false
}

// DecideRequest applies the request rules to one request to t, with the
// method and escaped path the client sent. It is pure.
func (r *Rules) DecideRequest(t Target, method, escapedPath string) RequestDecision {
	var rules []*requestRule
	for i := range r.requests {
		if r.requests[i].host.matches(t) {
			rules = append(rules, &r.requests[i])
		}
	}
	if len(rules) == 0 {
		return RequestDecision{Verdict: Allow}
	}
	what := fmt.Sprintf("%s %s on %s", strconv.QuoteToASCII(method), strconv.QuoteToASCII(truncPath(escapedPath)), t.HostPort())
	if !CleanPath(escapedPath) {
		return RequestDecision{Verdict: Deny,
			Reason: what + ": the path holds an empty, \".\" or \"..\" segment or an encoded slash, dot or backslash, which request rules cannot judge; network.requests govern this host",
			Fix:    "send the request with a plain path"}
	}
	dec, err := url.PathUnescape(escapedPath)
	if err != nil {
		return RequestDecision{Verdict: Deny, Reason: what + ": the path is not valid percent-encoding", Fix: "send the request with a plain path"}
	}
	segs := splitPath(strings.ToLower(dec))
	m := strings.ToUpper(method)
	var first *requestRule
	for _, rr := range rules {
		if rr.methods != nil && !slices.Contains(rr.methods, m) {
			continue
		}
		if rr.path != nil && !matchSegments(rr.path, segs) {
			continue
		}
		if rr.verdict == Deny {
			first = rr
			break
		}
		if first == nil {
			first = rr
		}
	}
	if first == nil {
		return RequestDecision{Verdict: Allow}
	}
	d := RequestDecision{Verdict: first.verdict, Rule: first.label}
	switch first.verdict {
	case Deny:
		d.Reason = what + " is denied by " + first.label
		d.Fix = "a deny rule cannot be overridden; change " + first.label + " in the policy if the request is intended"
	case Ask:
		d.Reason = what + ": " + first.label + " says to ask"
		d.Fix = "change " + first.label + " to allow in the policy"
	}
	if first.reason != "" && d.Reason != "" {
		d.Reason += " (" + first.reason + ")"
	}
	return d
}

func truncPath(p string) string {
	if len(p) > 200 {
		return p[:200] + "..."
	}
	return p
}

// tightenRequests merges the request rules of a less trusted layer: it may
// add ask and deny rules, which go before the more trusted ones (deny wins
// wherever it stands, so an added ask can only raise an allow), and no
// allow rule.
func tightenRequests(more, less []RequestRule, narrowOnly string) ([]RequestRule, []error) {
	var errs []error
	for i, rr := range less {
		if rr.Decision == RequestAllow {
			errs = append(errs, keyErrorf(fmt.Sprintf("%s[%d].decision", keyRequests, i), "%q adds an allow rule, which could come before an ask; %s", rr.Decision, narrowOnly))
		}
	}
	if len(less) == 0 {
		return slices.Clone(more), errs
	}
	return append(slices.Clone(less), more...), errs
}
