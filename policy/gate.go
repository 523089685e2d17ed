package policy

import (
	"fmt"
	"sort"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/policy/credscope"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// change says what a layer that is not trusted (a file the sandboxed
// commands could have written) may do with a key.
type change int

const (
	// forbidden: setting the key at all would widen the policy.
	forbidden change = iota
	// narrowOnly: the layer may set a value no looser than the current one;
	// widens says whether a value is looser.
	narrowOnly
	// addOnly: entries are only ever added, and each one confines more
	// (a denied path, a protected path, a denied variable), so every layer
	// may add them.
	addOnly
	// sectionTightens: the section's own Tighten merges an untrusted layer
	// and refuses, per entry, whatever it would loosen; its property tests
	// live where the section is judged (internal/cmdpolicy for cmdrules,
	// internal/credentials for credscope, netpolicy).
	sectionTightens
	// userOnly: only the user's own file (or the built-in default) may set
	// the key, whatever the trust of the layer.
	userOnly
)

// A gateRow is how one key of the file format is merged. Every key of
// fileV1 but version (which ParseFile checks) has exactly one row (TestEveryKeyHasAGateRow): a new key cannot
// be merged without saying how far an untrusted layer may change it.
type gateRow struct {
	key    string
	change change
	// what says, for forbidden and userOnly keys, what setting the key
	// does, for the error ("adding writable roots").
	what string
	// set reports whether the layer sets the key.
	set func(f *fileV1) bool
	// widens, for narrowOnly keys, returns what the layer's value would
	// widen ("timeout 0s (was 1h0m0s)"), or "" when it does not.
	widens func(p *Policy, l *Layer) string
	// merge applies the layer's value to p. The gate has already refused
	// what an untrusted layer may not do, except for sectionTightens keys,
	// whose merge tightens when trusted is false.
	merge func(p *Policy, m merging) []error
}

// merging is the layer being merged and what merge needs to know about it.
type merging struct {
	l       *Layer
	trusted bool
	home    string
}

func (m merging) items(key string, vals []string, expand bool) []Item {
	out := make([]Item, 0, len(vals))
	for _, v := range vals {
		if expand {
			v = expandPath(v, m.home)
		}
		out = append(out, Item{Value: v, From: m.l.source(key)})
	}
	return out
}

// source names the layer in rules and credentials it adds.
func (m merging) source() string {
	if m.l.Path != "" {
		return m.l.Path
	}
	return string(m.l.Kind)
}

// apply merges one layer into p: one pass over the gate table.
func (p *Policy) apply(l *Layer, trusted bool, home string) []error {
	var errs []error
	m := merging{l: l, trusted: trusted, home: home}
	for i := range gateTable {
		r := &gateTable[i]
		if !r.set(&l.file) {
			continue
		}
		switch {
		case r.change == userOnly && l.Kind != LayerUser && l.Kind != LayerBuiltin:
			errs = append(errs, l.errorf(r.key, "%s would widen the policy; only your own policy file (%s) may decide it", r.what, DefaultUserFile(home)))
			continue
		case trusted:
		case r.change == forbidden:
			errs = append(errs, l.widening(r.key, r.what))
			continue
		case r.change == narrowOnly:
			if w := r.widens(p, l); w != "" {
				errs = append(errs, l.widening(r.key, w))
				continue
			}
		}
		errs = append(errs, r.merge(p, m)...)
	}
	return errs
}

// A limit row: a count or size (or, with duration, a time) where 0 means
// unlimited, so a lower non-zero value is tighter.
func limitRow(key string, get func(*fileLimits) any, size bool, dst func(*Policy) *Value[uint64]) gateRow {
	val := func(l *Layer) uint64 {
		n, _ := parseCount(get(l.file.Limits), size) // checked in ParseFile
		return n
	}
	return gateRow{key: key, change: narrowOnly,
		set: func(f *fileV1) bool { return f.Limits != nil && get(f.Limits) != nil },
		widens: func(p *Policy, l *Layer) string {
			if n, cur := val(l), dst(p).Value; !tighterLimit(n, cur) {
				return fmt.Sprintf("%d (was %s)", n, limitText(cur, false))
			}
			return ""
		},
		merge: func(p *Policy, m merging) []error {
			*dst(p) = Value[uint64]{val(m.l), m.l.source(key)}
			return nil
		},
	}
}

func durationOf(v any) time.Duration {
	d, _ := parseDuration(v) // checked in ParseFile
	return d
}

// gateTable is every key of the policy file, in the order they are merged.
var gateTable = []gateRow{
	{key: "filesystem.trust_workspace_policy", change: userOnly, what: "trusting workspace policy files",
		set: func(f *fileV1) bool { return f.Filesystem != nil && f.Filesystem.TrustWorkspacePolicy != nil },
		merge: func(p *Policy, m merging) []error {
			p.Filesystem.TrustWorkspacePolicy = Value[bool]{*m.l.file.Filesystem.TrustWorkspacePolicy, m.l.source("filesystem.trust_workspace_policy")}
			return nil
		}},
	{key: "mode", change: narrowOnly,
		set: func(f *fileV1) bool { return f.Mode != nil },
		widens: func(p *Policy, l *Layer) string {
			if m := Mode(*l.file.Mode); m.strictness() < p.Mode.Value.strictness() {
				return fmt.Sprintf("mode %q (was %q)", m, p.Mode.Value)
			}
			return ""
		},
		merge: func(p *Policy, m merging) []error {
			p.Mode = Value[Mode]{Mode(*m.l.file.Mode), m.l.source("mode")}
			return nil
		}},
	{key: "allow_degraded", change: forbidden, what: "accepting a weaker mode",
		set: func(f *fileV1) bool { return len(f.AllowDegraded) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.AllowDegraded = append(p.AllowDegraded, m.items("allow_degraded", m.l.file.AllowDegraded, false)...)
			return nil
		}},
	{key: "filesystem.writable", change: forbidden, what: "adding writable roots",
		set: func(f *fileV1) bool { return f.Filesystem != nil && len(f.Filesystem.Writable) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.Filesystem.Writable = append(p.Filesystem.Writable, m.items("filesystem.writable", m.l.file.Filesystem.Writable, true)...)
			return nil
		}},
	{key: "filesystem.host_sockets", change: forbidden, what: "granting host sockets",
		set: func(f *fileV1) bool { return f.Filesystem != nil && len(f.Filesystem.HostSockets) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.Filesystem.HostSockets = append(p.Filesystem.HostSockets, m.items("filesystem.host_sockets", m.l.file.Filesystem.HostSockets, true)...)
			return nil
		}},
	{key: "filesystem.deny_read", change: addOnly,
		set: func(f *fileV1) bool { return f.Filesystem != nil && len(f.Filesystem.DenyRead) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.Filesystem.DenyRead = append(p.Filesystem.DenyRead, m.items("filesystem.deny_read", m.l.file.Filesystem.DenyRead, true)...)
			return nil
		}},
	{key: "filesystem.allow_read", change: forbidden, what: "allowing reads of denied paths",
		set: func(f *fileV1) bool { return f.Filesystem != nil && len(f.Filesystem.AllowRead) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.Filesystem.AllowRead = append(p.Filesystem.AllowRead, m.items("filesystem.allow_read", m.l.file.Filesystem.AllowRead, true)...)
			return nil
		}},
	{key: "filesystem.protected", change: addOnly,
		set: func(f *fileV1) bool { return f.Filesystem != nil && len(f.Filesystem.Protected) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.Filesystem.Protected = append(p.Filesystem.Protected, m.items("filesystem.protected", m.l.file.Filesystem.Protected, true)...)
			return nil
		}},
	{key: "filesystem.unprotect", change: forbidden, what: "removing protected paths",
		set:   func(f *fileV1) bool { return f.Filesystem != nil && len(f.Filesystem.Unprotect) > 0 },
		merge: mergeUnprotect},
	{key: "environment.pass", change: forbidden, what: "passing more variables",
		set: func(f *fileV1) bool { return f.Environment != nil && len(f.Environment.Pass) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.Env.Pass = append(p.Env.Pass, m.items("environment.pass", m.l.file.Environment.Pass, false)...)
			return nil
		}},
	{key: "environment.deny", change: addOnly,
		set: func(f *fileV1) bool { return f.Environment != nil && len(f.Environment.Deny) > 0 },
		merge: func(p *Policy, m merging) []error {
			p.Env.Deny = append(p.Env.Deny, m.items("environment.deny", m.l.file.Environment.Deny, false)...)
			return nil
		}},
	{key: "environment.set", change: forbidden, what: "setting variables",
		set: func(f *fileV1) bool { return f.Environment != nil && len(f.Environment.Set) > 0 },
		merge: func(p *Policy, m merging) []error {
			set := m.l.file.Environment.Set
			keys := make([]string, 0, len(set))
			for k := range set {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p.Env.Set[k] = Item{Value: set[k], From: m.l.source("environment.set." + k)}
			}
			return nil
		}},
	{key: "audit", change: forbidden, what: "changing where the audit trail goes",
		set:   func(f *fileV1) bool { return f.Audit != nil },
		merge: mergeAudit},
	{key: "approval.approver", change: forbidden, what: "naming who approves",
		set: func(f *fileV1) bool { return f.Approval != nil && f.Approval.Approver != nil },
		merge: func(p *Policy, m merging) []error {
			p.Approval.Approver = Value[[]string]{m.l.file.Approval.Approver, m.l.source("approval.approver")}
			return nil
		}},
	{key: "approval.timeout", change: narrowOnly,
		set: func(f *fileV1) bool { return f.Approval != nil && f.Approval.Timeout != nil },
		widens: func(p *Policy, l *Layer) string {
			if !tighterLimit(uint64(durationOf(l.file.Approval.Timeout)), uint64(p.Approval.Timeout.Value)) {
				return "a longer approval timeout"
			}
			return ""
		},
		merge: func(p *Policy, m merging) []error {
			p.Approval.Timeout = Value[time.Duration]{durationOf(m.l.file.Approval.Timeout), m.l.source("approval.timeout")}
			return nil
		}},
	{key: "credentials", change: sectionTightens,
		set:   func(f *fileV1) bool { return len(f.Credentials) > 0 },
		merge: mergeCredentials},
	{key: "network", change: sectionTightens,
		set:   func(f *fileV1) bool { return f.Network != nil },
		merge: mergeNetworkLayer},
	{key: "commands", change: sectionTightens,
		set:   func(f *fileV1) bool { return f.Commands != nil },
		merge: mergeCommandsLayer},
	{key: "limits.timeout", change: narrowOnly,
		set: func(f *fileV1) bool { return f.Limits != nil && f.Limits.Timeout != nil },
		widens: func(p *Policy, l *Layer) string {
			d, cur := durationOf(l.file.Limits.Timeout), p.Limits.Timeout.Value
			if !tighterLimit(uint64(d), uint64(cur)) {
				return fmt.Sprintf("timeout %s (was %s)", limitText(uint64(d), true), limitText(uint64(cur), true))
			}
			return ""
		},
		merge: func(p *Policy, m merging) []error {
			p.Limits.Timeout = Value[time.Duration]{durationOf(m.l.file.Limits.Timeout), m.l.source("limits.timeout")}
			return nil
		}},
	limitRow("limits.max_processes", func(l *fileLimits) any { return l.MaxProcesses }, false, func(p *Policy) *Value[uint64] { return &p.Limits.MaxProcesses }),
	limitRow("limits.open_files", func(l *fileLimits) any { return l.OpenFiles }, false, func(p *Policy) *Value[uint64] { return &p.Limits.OpenFiles }),
	limitRow("limits.file_size", func(l *fileLimits) any { return l.FileSize }, true, func(p *Policy) *Value[uint64] { return &p.Limits.FileSize }),
	limitRow("limits.memory", func(l *fileLimits) any { return l.Memory }, true, func(p *Policy) *Value[uint64] { return &p.Limits.Memory }),
	limitRow("limits.tmp_size", func(l *fileLimits) any { return l.TmpSize }, true, func(p *Policy) *Value[uint64] { return &p.Limits.TmpSize }),
}

func mergeUnprotect(p *Policy, m merging) []error {
	var errs []error
	for _, u := range m.items("filesystem.unprotect", m.l.file.Filesystem.Unprotect, true) {
		kept := p.Filesystem.Protected[:0]
		found := false
		for _, it := range p.Filesystem.Protected {
			if it.Value == u.Value {
				found = true
				continue
			}
			kept = append(kept, it)
		}
		p.Filesystem.Protected = kept
		if !found {
			errs = append(errs, m.l.errorf("filesystem.unprotect", "%q is not a protected path", u.Value).
				withHint("see the protected paths with: cordon policy show"))
		}
		p.Filesystem.Unprotect = append(p.Filesystem.Unprotect, u)
	}
	return errs
}

// mergeAudit decodes the layer's [audit] over what earlier layers set, so
// that it changes only the keys it names.
func mergeAudit(p *Policy, m merging) []error {
	cfg := p.Audit.Value
	over := struct {
		Audit *audit.Config `toml:"audit"`
	}{&cfg}
	if err := toml.Unmarshal(m.l.data, &over); err != nil {
		return []error{decodeError(m.l.Path, err)}
	}
	if err := cfg.Validate(); err != nil {
		return m.l.keyErrors("audit", err, `see docs/audit.md ("Configuration") for the [audit] keys`)
	}
	p.Audit = Value[audit.Config]{cfg, m.l.source("audit")}
	return nil
}

func mergeCredentials(p *Policy, m merging) []error {
	var merged credscope.Scopes
	var err error
	if m.trusted {
		merged, err = p.Credentials.Merge(m.l.file.Credentials, m.source())
	} else {
		merged, err = p.Credentials.Tighten(m.l.file.Credentials, m.source())
	}
	if err != nil {
		e := m.l.errorf("credentials", "%v", err)
		if !m.trusted {
			e = e.withHint("a workspace policy may only remove credentials, narrow their commands or the hosts and paths they are injected into, or raise allow to ask")
		}
		return []error{e}
	}
	p.Credentials = merged
	return nil
}

func mergeNetworkLayer(p *Policy, m merging) []error {
	layer := *m.l.file.Network
	if m.trusted {
		p.Network = Value[netpolicy.Config]{mergeNetwork(p.Network.Value, layer), m.l.source("network")}
		return nil
	}
	narrowed, err := p.Network.Value.Tighten(layer)
	if err != nil {
		return m.l.keyErrors("network", err, "a workspace policy may only remove allowed hosts, add denied ones, or add ask and deny request rules")
	}
	p.Network = Value[netpolicy.Config]{narrowed, m.l.source("network")}
	return nil
}

func mergeCommandsLayer(p *Policy, m merging) []error {
	layer := *m.l.file.Commands
	if m.trusted {
		p.Commands = mergeCommands(p.Commands, layer, m.source())
		return nil
	}
	merged, err := p.Commands.Tighten(layer, m.source())
	if err != nil {
		return []error{m.l.errorf("commands", "%v", err).
			withHint("a workspace policy may only add ask or deny command rules and raise decisions")}
	}
	p.Commands = merged
	return nil
}
