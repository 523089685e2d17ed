package netpolicy

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// defaultPorts are the ports an allow entry without :PORT covers.
var defaultPorts = []int{80, 443}

// A pattern is one compiled host entry.
type pattern struct {
	key    string // policy key it came from, or "preset NAME"
	source string // the entry as written
	// Exactly one of ip and name is set. With wildcard, name is the suffix
	// after "*." and the pattern matches proper subdomains only.
	ip       netip.Addr
	name     string
	wildcard bool
	ports    []int // nil: every port (deny entries without a port)
	// private: a name may resolve to non-public addresses. Always true for
	// IP patterns, where listing the address is the consent.
	private bool
}

func (p pattern) String() string { return p.key + " " + strconv.Quote(p.source) }

func (p pattern) matches(t Target) bool {
	if p.ports != nil && !slices.Contains(p.ports, t.Port) {
		return false
	}
	switch {
	case p.ip.IsValid():
		return t.IP == p.ip
	case t.IP.IsValid():
		return false
	case p.wildcard:
		return strings.HasSuffix(t.Name, "."+p.name)
	default:
		return t.Name == p.name
	}
}

// covers reports whether every connection q allows is also allowed by p.
func (p pattern) covers(q pattern) bool {
	if q.private && !p.private {
		return false
	}
	if p.ports != nil {
		if q.ports == nil {
			return false
		}
		for _, port := range q.ports {
			if !slices.Contains(p.ports, port) {
				return false
			}
		}
	}
	switch {
	case q.ip.IsValid() || p.ip.IsValid():
		return p.ip == q.ip
	case !p.wildcard:
		return !q.wildcard && q.name == p.name
	default:
		return q.name == p.name && q.wildcard || strings.HasSuffix(q.name, "."+p.name)
	}
}

// entryKind says which list an entry comes from; it decides the default
// ports and whether private addresses are fine.
type entryKind int

const (
	kindAllow entryKind = iota
	kindAllowPrivate
	kindTCP
	kindDeny
)

// parsePattern compiles one entry. The error names the key and the entry and
// says what a valid one looks like.
func parsePattern(key, entry string, kind entryKind) (pattern, error) {
	p := pattern{key: key, source: entry, private: kind == kindAllowPrivate}
	example := `write NAME, *.SUFFIX or an IP address, each with an optional :PORT, as "example.com", "*.example.com:8443" or "[::1]:8080"`
	defaultPort := -1 // marks "no port given"
	if kind == kindTCP {
		example = `write HOST:PORT, as "github.com:22" or "10.0.0.5:5432"`
		defaultPort = 0 // a port is required
	}
	hostPart, port, err := SplitHostPort(entry, defaultPort)
	if err != nil {
		return p, configError(key, entry, err.Error()+"; "+example)
	}
	switch {
	case port > 0:
		p.ports = []int{port}
	case kind == kindDeny:
		p.ports = nil // every port
	default:
		p.ports = defaultPorts
	}
	if rest, ok := strings.CutPrefix(hostPart, "*."); ok {
		p.wildcard = true
		hostPart = rest
	}
	if strings.Contains(hostPart, "*") {
		return p, configError(key, entry, `a wildcard must be the whole first label and match subdomains only, as "*.example.com"; `+example)
	}
	t, err := ParseHost(hostPart)
	if err != nil {
		return p, configError(key, entry, err.Error()+"; "+example)
	}
	switch {
	case t.IP.IsValid() && p.wildcard:
		return p, configError(key, entry, "a wildcard cannot apply to an IP address; list each address")
	case t.IP.IsValid():
		if r, special := specialAddr(t.IP); special && r.never {
			return p, configError(key, entry, "the address is "+r.what+" and cannot be a destination; list the host's real address")
		}
		p.ip = t.IP
		p.private = kind != kindDeny
	case p.wildcard && !strings.Contains(t.Name, "."):
		return p, configError(key, entry, `a wildcard must keep at least two labels, as "*.example.com"; "*.`+t.Name+`" would match a whole top-level domain`)
	default:
		p.name = t.Name
	}
	return p, nil
}

// Rules is a validated, compiled Config. It is immutable and safe for
// concurrent use.
type Rules struct {
	mode     Mode
	unlisted string
	deny     []pattern
	allow    []pattern // private patterns first
	requests []requestRule
}

// Compile validates cfg and compiles it for Decide.
func Compile(cfg Config) (*Rules, error) { return compile(cfg) }

func compile(cfg Config) (*Rules, error) {
	r := &Rules{mode: cfg.mode(), unlisted: cfg.unlisted()}
	var errs []error
	switch cfg.Mode {
	case "", ModeOff, ModeProxy, ModeFull:
	default:
		errs = append(errs, configError(keyMode, string(cfg.Mode), `valid modes are "off" (the default), "proxy" and "full"`))
	}
	switch cfg.Unlisted {
	case "", UnlistedDeny, UnlistedAsk:
	default:
		errs = append(errs, configError(keyUnlisted, cfg.Unlisted, `valid values are "deny" (the default) and "ask"`))
	}
	if cfg.ExtraCA != "" && !filepath.IsAbs(cfg.ExtraCA) {
		errs = append(errs, configError(keyExtraCA, cfg.ExtraCA, "must be an absolute path to a PEM file of CA certificates"))
	}
	for _, l := range cfg.ruleLists() {
		for i, e := range l.entries {
			p, err := parsePattern(fmt.Sprintf("%s[%d]", l.key, i), e, l.kind)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p.key = l.key
			r.allow = append(r.allow, p)
		}
	}
	for _, name := range cfg.Presets {
		entries, ok := presets[name]
		if !ok {
			errs = append(errs, configError(keyPresets, name, "no such preset; valid presets are "+validPresets()))
			continue
		}
		for _, e := range entries {
			p, err := parsePattern(keyPresets, e, kindAllow)
			if err != nil {
				panic("netpolicy: built-in preset " + name + " is invalid: " + err.Error())
			}
			p.key = "preset " + strconv.Quote(name) + ":"
			r.allow = append(r.allow, p)
		}
	}
	if cfg.mode() == ModeFull && len(cfg.Requests) > 0 {
		errs = append(errs, keyErrorf(keyRequests, `network.mode = "full" does not send connections through cordon's proxy, so no request rule could be enforced; use mode "proxy"`))
	}
	for i, rr := range cfg.Requests {
		c, rerrs := compileRequestRule(i, rr)
		errs = append(errs, rerrs...)
		if len(rerrs) == 0 {
			r.requests = append(r.requests, c)
		}
	}
	for i, e := range cfg.Deny {
		p, err := parsePattern(fmt.Sprintf("%s[%d]", keyDeny, i), e, kindDeny)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.key = keyDeny
		r.deny = append(r.deny, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Rules) covers(q pattern) bool {
	for _, p := range r.allow {
		if p.covers(q) {
			return true
		}
	}
	return false
}

// Verdict is what a Decision says to do with a connection.
type Verdict int

const (
	Deny Verdict = iota
	Allow
	Ask
)

func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Ask:
		return "ask"
	}
	return "deny"
}

// Decision is the policy's answer for one destination, before any name is
// resolved.
type Decision struct {
	Verdict Verdict
	// Host is the normalised destination: a lower-case ASCII name or an IP
	// address. If the requested host could not be parsed, Host is the raw
	// text quoted in Go syntax.
	Host string
	Port int
	// Rule names the entry that decided, as `network.allow "*.example.com"`;
	// empty when no entry matched.
	Rule string
	// Private says a name may resolve to non-public addresses.
	Private bool
	// Reason says why, in a sentence, for refusals and asks.
	Reason string
	// Fix says how a user would allow the destination, for refusals.
	Fix string

	target Target
	ipRule bool // an IP-literal rule matched
}

// Target is the normalised destination the decision is about (zero when
// the requested host could not be parsed). The proxy resolves and dials
// this, never the client's spelling.
func (d Decision) Target() Target { return d.target }

// Decide applies the rules to one requested destination, as the client
// spelled it. It is pure: it resolves nothing and dials nothing.
func (r *Rules) Decide(host string, port int) Decision {
	t, err := ParseHost(host)
	if err == nil && (port < 1 || port > 65535) {
		err = fmt.Errorf("port %d is outside 1-65535", port)
	}
	if err != nil {
		return Decision{Verdict: Deny, Host: strconv.QuoteToASCII(host), Port: port,
			Reason: "invalid destination: " + err.Error()}
	}
	t.Port = port
	d := Decision{Host: t.Host(), Port: port, target: t}
	if r.mode == ModeOff {
		d.Reason = "the network mode is off"
		d.Fix = `set network.mode = "proxy" in the policy and allow ` + t.HostPort()
		return d
	}
	for _, p := range r.deny {
		if p.matches(t) {
			d.Rule = p.String()
			d.Reason = t.HostPort() + " is denied by " + d.Rule
			d.Fix = "remove " + strconv.Quote(p.source) + " from network.deny; a deny entry cannot be overridden"
			return d
		}
	}
	if r.mode == ModeFull {
		d.Verdict, d.Rule, d.Private = Allow, keyMode+` "full"`, true
		return d
	}
	var first *pattern
	for i := range r.allow {
		if p := &r.allow[i]; p.matches(t) {
			if p.private {
				first = p
				break
			}
			if first == nil {
				first = p
			}
		}
	}
	if first != nil {
		d.Verdict, d.Rule, d.Private, d.ipRule = Allow, first.String(), first.private, first.ip.IsValid()
		return d
	}
	d.Reason = "no rule allows " + t.HostPort()
	d.Fix = allowHint(t)
	if r.unlisted == UnlistedAsk {
		d.Verdict = Ask
		d.Reason += "; the policy says to ask"
	}
	return d
}

func allowHint(t Target) string {
	entry := t.HostPort()
	if t.Name != "" && slices.Contains(defaultPorts, t.Port) {
		entry = t.Name
	}
	return fmt.Sprintf("cordon run --allow-host %s, or add %q to network.allow in the policy", t.HostPort(), entry)
}

// CheckResolved decides whether a name allowed by d may be dialled at ip,
// one of the addresses it resolved to. It returns a reason when it may not.
func (d Decision) CheckResolved(ip netip.Addr) (reason string, ok bool) {
	r, special := specialAddr(ip)
	switch {
	case !special:
		return "", true
	case r.metadata:
		return fmt.Sprintf("%s resolved to %s, a %s address; names never reach metadata services (list the IP address itself if this is intended)", d.Host, ip, r.what), false
	case r.never:
		return fmt.Sprintf("%s resolved to %s, a %s address, which is no destination", d.Host, ip, r.what), false
	case d.Private:
		return "", true
	}
	return fmt.Sprintf("%s resolved to %s, a %s address, and %s does not allow private addresses", d.Host, ip, r.what, RuleOrNone(d.Rule)), false
}

// CheckLiteral decides whether an IP-literal destination allowed by d may
// be dialled. An address listed by an IP rule may, whatever its range
// (except those that are no destination at all); one allowed otherwise
// (full mode, or a human's answer) must be public, and never a metadata
// address.
func (d Decision) CheckLiteral() (reason string, ok bool) {
	ip := d.target.IP
	r, special := specialAddr(ip)
	switch {
	case !special, d.ipRule:
		return "", true
	case r.never:
		return fmt.Sprintf("%s is a %s address, which is no destination", ip, r.what), false
	case d.Private && !r.metadata:
		return "", true
	}
	return fmt.Sprintf("%s is a %s address, which only a rule listing that address can reach", ip, r.what), false
}

// RuleOrNone names rule for a message, or says there was none.
func RuleOrNone(rule string) string {
	if rule == "" {
		return "no rule"
	}
	return rule
}
