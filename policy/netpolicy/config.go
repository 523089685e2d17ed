package netpolicy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Mode says how a sandboxed command reaches the network.
type Mode string

const (
	// ModeOff: no network at all. The default.
	ModeOff Mode = "off"
	// ModeProxy: only through cordon's proxy, only to hosts the rules allow.
	ModeProxy Mode = "proxy"
	// ModeFull: unrestricted network. A named risk that the caller must
	// accept explicitly; the proxy, if used, allows every host not denied.
	ModeFull Mode = "full"
)

func (m Mode) rank() int {
	switch m {
	case ModeProxy:
		return 1
	case ModeFull:
		return 2
	}
	return 0
}

// What happens to a host that no rule lists.
const (
	UnlistedDeny = "deny"
	UnlistedAsk  = "ask"
)

// Config is the `[network]` section of a policy file. The zero value is valid
// and means no network.
//
// Host entries are written as NAME, *.SUFFIX (subdomains only, not SUFFIX
// itself), an IP address (IPv6 in brackets when a port follows), each with an
// optional :PORT. Without a port an allow entry covers ports 80 and 443 and a
// deny entry covers every port. docs/network.md describes every key.
type Config struct {
	// Mode is off (the default when empty), proxy or full.
	Mode Mode `toml:"mode,omitempty" json:"mode,omitempty"`
	// Presets switches on built-in groups of allow rules by name; see
	// PresetNames.
	Presets []string `toml:"presets,omitempty" json:"presets,omitempty"`
	// Allow lists hosts the command may reach. A name allowed here must
	// resolve to public addresses only; an IP literal listed here is allowed
	// whatever range it is in, since listing it is the consent.
	Allow []string `toml:"allow,omitempty" json:"allow,omitempty"`
	// AllowPrivate lists hosts the command may reach whose names may resolve
	// to loopback, private, link-local or CGNAT addresses (an internal
	// registry, a database on the LAN). Cloud metadata addresses stay refused
	// for names even here.
	AllowPrivate []string `toml:"allow_private,omitempty" json:"allow_private,omitempty"`
	// TCP lists raw TCP destinations for tools that do not speak HTTP (ssh,
	// databases), as HOST:PORT; the port is required. They are reachable
	// through CONNECT and SOCKS5.
	TCP []string `toml:"tcp,omitempty" json:"tcp,omitempty"`
	// Deny lists hosts that are refused even when an allow rule or a preset
	// matches. Deny always wins.
	Deny []string `toml:"deny,omitempty" json:"deny,omitempty"`
	// Unlisted decides hosts that no rule lists: "deny" (the default when
	// empty) or "ask", which holds the connection while a human is asked.
	// Without an approval channel ask behaves as deny.
	Unlisted string `toml:"unlisted,omitempty" json:"unlisted,omitempty"`
	// ExtraCA is a PEM file of CA certificates the proxy trusts, besides
	// the system's, when it verifies the hosts it intercepts (those a
	// credential is injected into); sandboxed tools trust them too.
	ExtraCA string `toml:"extra_ca,omitempty" json:"extra_ca,omitempty"`
	// Requests decide HTTP requests by method and path, on the hosts whose
	// requests the proxy can read; see RequestRule.
	Requests []RequestRule `toml:"requests,omitempty" json:"requests,omitempty"`
}

// Keys as they appear in a policy file, for error messages.
const (
	keyMode         = "network.mode"
	keyPresets      = "network.presets"
	keyAllow        = "network.allow"
	keyAllowPrivate = "network.allow_private"
	keyTCP          = "network.tcp"
	keyDeny         = "network.deny"
	keyUnlisted     = "network.unlisted"
	keyExtraCA      = "network.extra_ca"
)

func (c Config) mode() Mode {
	if c.Mode == "" {
		return ModeOff
	}
	return c.Mode
}

func (c Config) unlisted() string {
	if c.Unlisted == "" {
		return UnlistedDeny
	}
	return c.Unlisted
}

// Validate checks every key and entry and reports all problems at once, each
// naming the key, the bad value and what would be valid.
func (c Config) Validate() error {
	_, err := compile(c)
	return err
}

// rule lists of a Config, in the order Decide consults them.
func (c Config) ruleLists() []ruleList {
	return []ruleList{
		{key: keyAllowPrivate, entries: c.AllowPrivate, kind: kindAllowPrivate},
		{key: keyAllow, entries: c.Allow, kind: kindAllow},
		{key: keyTCP, entries: c.TCP, kind: kindTCP},
	}
}

type ruleList struct {
	key     string
	entries []string
	kind    entryKind
}

// Tighten merges a less trusted layer (a workspace's policy, an agent's
// request) into c. The less trusted layer may lower the mode, switch ask to
// deny, add deny entries, add ask and deny request rules, and replace any list by a narrower one; it may not
// add a preset, widen a list, or raise the mode. Every attempt to widen is
// reported, naming the key and the value. A list left out (nil) in less keeps
// c's list; an empty list removes it.
func (c Config) Tighten(less Config) (Config, error) {
	base, err := compile(c)
	if err != nil {
		return Config{}, fmt.Errorf("the more trusted network policy is invalid: %w", err)
	}
	if _, err := compile(less); err != nil {
		return Config{}, fmt.Errorf("the less trusted network policy is invalid: %w", err)
	}
	const narrowOnly = "a less trusted policy layer may only remove allows or add denies"
	var errs []error
	out := c

	if less.Mode != "" {
		if less.mode().rank() > c.mode().rank() {
			errs = append(errs, keyErrorf(keyMode, "raising %q to %q widens network access; %s", c.mode(), less.Mode, narrowOnly))
		} else {
			out.Mode = less.Mode
		}
	}
	if less.Unlisted != "" {
		if less.unlisted() == UnlistedAsk && c.unlisted() == UnlistedDeny {
			errs = append(errs, keyErrorf(keyUnlisted, "changing %q to %q lets unlisted hosts be approved; %s", UnlistedDeny, UnlistedAsk, narrowOnly))
		} else {
			out.Unlisted = less.Unlisted
		}
	}
	if less.ExtraCA != "" && less.ExtraCA != c.ExtraCA {
		errs = append(errs, keyErrorf(keyExtraCA, "%q adds certificates the proxy would trust; %s", less.ExtraCA, narrowOnly))
	}
	if less.Presets != nil {
		for _, p := range less.Presets {
			if !slices.Contains(c.Presets, p) {
				errs = append(errs, keyErrorf(keyPresets, "%q is not switched on by the more trusted policy; %s", p, narrowOnly))
			}
		}
		out.Presets = slices.Clone(less.Presets)
	}
	for _, l := range less.ruleLists() {
		if l.entries == nil {
			continue
		}
		for _, e := range l.entries {
			p, _ := parsePattern(l.key, e, l.kind)
			if !base.covers(p) {
				what := "a host"
				if p.private {
					what = "a host with private addresses"
				}
				errs = append(errs, keyErrorf(l.key, "%q adds %s that the more trusted policy does not allow; %s", e, what, narrowOnly))
			}
		}
		switch l.key {
		case keyAllow:
			out.Allow = slices.Clone(l.entries)
		case keyAllowPrivate:
			out.AllowPrivate = slices.Clone(l.entries)
		case keyTCP:
			out.TCP = slices.Clone(l.entries)
		}
	}
	var rerrs []error
	out.Requests, rerrs = tightenRequests(c.Requests, less.Requests, narrowOnly)
	errs = append(errs, rerrs...)
	if out.mode() == ModeFull && len(less.Requests) > 0 {
		errs = append(errs, keyErrorf(keyRequests, `network.mode is "full", where connections do not go through cordon's proxy, so these rules could not be enforced; set mode = "proxy" in this layer`))
	}
	out.Deny = slices.Clone(c.Deny)
	for _, d := range less.Deny {
		if !slices.Contains(out.Deny, d) {
			out.Deny = append(out.Deny, d)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return out, nil
}

// KeyError is one problem in a Config, about one key of the policy file
// ("network.allow[1]": the second entry of allow), so that the policy can
// point at that key's line. Validate and Tighten return KeyErrors, joined
// when there are several.
type KeyError struct {
	// Key is the dotted key, with [i] for an entry of a list.
	Key string
	// Msg says what is wrong with it.
	Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

func keyErrorf(key, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// configError is one problem in a Config.
func configError(key, value, problem string) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf("%q: %s", value, problem)}
}

func validPresets() string {
	return `"` + strings.Join(PresetNames(), `", "`) + `"`
}
