package policy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// fileKeys lists the dotted keys of the file format by reflection over
// fileV1: the fields of its own sections (fileFS, fileLimits, ...) are keys
// each; a section in another package's format (network, commands, audit,
// credentials) is one key, merged by that package's own rules.
func fileKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == reflect.TypeFor[fileV1]().PkgPath() {
			keys = append(keys, fileKeys(ft, key+".")...)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

// TestEveryKeyHasAGateRow: a key added to the file format without a row in
// gateTable (saying how far an untrusted layer may change it) fails here.
func TestEveryKeyHasAGateRow(t *testing.T) {
	rows := map[string]*gateRow{}
	for i := range gateTable {
		r := &gateTable[i]
		if rows[r.key] != nil {
			t.Errorf("gateTable has two rows for %s", r.key)
		}
		rows[r.key] = r
		switch {
		case r.set == nil || r.merge == nil:
			t.Errorf("row %s lacks set or merge", r.key)
		case r.change == narrowOnly && r.widens == nil:
			t.Errorf("narrow-only row %s has no widens", r.key)
		case (r.change == forbidden || r.change == userOnly) && r.what == "":
			t.Errorf("row %s does not say what setting it does", r.key)
		}
	}
	keys := fileKeys(reflect.TypeFor[fileV1](), "")
	if len(keys) < 20 {
		t.Fatalf("found only %d keys by reflection: %v", len(keys), keys)
	}
	for _, k := range keys {
		if k == "version" {
			continue // checked by ParseFile, not merged
		}
		if rows[k] == nil {
			t.Errorf("key %s has no row in gateTable: say how far a workspace layer may change it", k)
		}
		delete(rows, k)
	}
	for k := range rows {
		t.Errorf("gateTable row %s names no key of the file format", k)
	}
}

// A gateCase generates, for one key, a base value set by the user's own
// (trusted) file, a random loosening and a random tightening of it written
// by the workspace's (untrusted) file, and judges the merged policy.
type gateCase struct {
	// base is the user file's body (after version = 1); may be empty.
	base func(r *rand.Rand, n int) string
	// loosen is a workspace body that widens the base; nil when no value of
	// the key can (add-only keys).
	loosen func(r *rand.Rand, n int) string
	// tighten is a workspace body that narrows the base; nil when setting
	// the key at all widens (forbidden keys).
	tighten func(r *rand.Rand, n int) string
	// tighter judges the policy merged with the tightening: it must be no
	// wider than the base, and the layer's value must have been taken.
	tighter func(p *Policy, n int) error
}

func fixed(s string) func(*rand.Rand, int) string { return func(*rand.Rand, int) string { return s } }

// limitCase: the base is a limit of n, looser is anything above it or 0
// (unlimited), tighter is 1..n.
func limitCase(key string, get func(*Policy) uint64, unit string) gateCase {
	section, name, _ := strings.Cut(key, ".")
	body := func(v uint64) string {
		if unit != "" {
			return fmt.Sprintf("[%s]\n%s = \"%d%s\"\n", section, name, v, unit)
		}
		return fmt.Sprintf("[%s]\n%s = %d\n", section, name, v)
	}
	return gateCase{
		base: func(_ *rand.Rand, n int) string { return body(uint64(n)) },
		loosen: func(r *rand.Rand, n int) string {
			if r.IntN(4) == 0 {
				return body(0)
			}
			return body(uint64(n) + 1 + r.Uint64N(1e6))
		},
		tighten: func(r *rand.Rand, n int) string { return body(1 + r.Uint64N(uint64(n))) },
		tighter: func(p *Policy, n int) error {
			if v := get(p); v == 0 || v > uint64(n) {
				return fmt.Errorf("%s = %d, want 1..%d", key, v, n)
			}
			return nil
		},
	}
}

func contains(list []Item, v string) bool { return slices.Contains(Values(list), v) }

var gateCases = map[string]gateCase{
	"mode": {
		base: func(_ *rand.Rand, n int) string {
			return fmt.Sprintf("mode = %q\n", []Mode{ModeWorkspaceWrite, ModeReadOnly}[n%2])
		},
		loosen: func(r *rand.Rand, n int) string {
			if n%2 == 1 && r.IntN(2) == 0 { // read-only
				return "mode = \"workspace-write\"\n"
			}
			return "mode = \"full-access\"\n"
		},
		tighten: func(r *rand.Rand, n int) string {
			if n%2 == 0 && r.IntN(2) == 0 {
				return "mode = \"workspace-write\"\n"
			}
			return "mode = \"read-only\"\n"
		},
		tighter: func(p *Policy, n int) error {
			if base := []Mode{ModeWorkspaceWrite, ModeReadOnly}[n%2]; p.Mode.Value.strictness() < base.strictness() || p.Mode.From.Layer != LayerWorkspace {
				return fmt.Errorf("mode = %+v, want at least %q from the workspace", p.Mode, base)
			}
			return nil
		},
	},
	"allow_degraded": {loosen: func(r *rand.Rand, _ int) string {
		names := []Degraded{DegradedLandlock, DegradedWindowsUnelevated, DegradedMacOSNoMemoryLimit}
		return fmt.Sprintf("allow_degraded = [%q]\n", names[r.IntN(len(names))])
	}},
	"filesystem.writable": {loosen: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[filesystem]\nwritable = [\"/srv/w%d\"]\n", n) }},
	"filesystem.host_sockets": {loosen: func(_ *rand.Rand, n int) string {
		return fmt.Sprintf("[filesystem]\nhost_sockets = [\"/run/s%d.sock\"]\n", n)
	}},
	"filesystem.allow_read": {
		base: func(_ *rand.Rand, n int) string {
			return fmt.Sprintf("[filesystem]\ndeny_read = [\"/secret/d%d\"]\n", n)
		},
		loosen: func(_ *rand.Rand, n int) string {
			return fmt.Sprintf("[filesystem]\nallow_read = [\"/secret/d%d\"]\n", n)
		},
	},
	"filesystem.unprotect": {
		base:   func(_ *rand.Rand, n int) string { return fmt.Sprintf("[filesystem]\nprotected = [\".p%d\"]\n", n) },
		loosen: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[filesystem]\nunprotect = [\".p%d\"]\n", n) },
	},
	"filesystem.trust_workspace_policy": {loosen: func(r *rand.Rand, _ int) string {
		return fmt.Sprintf("[filesystem]\ntrust_workspace_policy = %v\n", r.IntN(2) == 0)
	}},
	"filesystem.deny_read": {
		base:    func(_ *rand.Rand, n int) string { return fmt.Sprintf("[filesystem]\ndeny_read = [\"/base/%d\"]\n", n) },
		tighten: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[filesystem]\ndeny_read = [\"/more/%d\"]\n", n) },
		tighter: func(p *Policy, n int) error {
			if !contains(p.Filesystem.DenyRead, fmt.Sprint("/base/", n)) || !contains(p.Filesystem.DenyRead, fmt.Sprint("/more/", n)) {
				return fmt.Errorf("deny_read = %v, want both layers' entries", Values(p.Filesystem.DenyRead))
			}
			return nil
		},
	},
	"filesystem.protected": {
		base:    func(_ *rand.Rand, n int) string { return fmt.Sprintf("[filesystem]\nprotected = [\".base%d\"]\n", n) },
		tighten: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[filesystem]\nprotected = [\".more%d\"]\n", n) },
		tighter: func(p *Policy, n int) error {
			if !contains(p.Filesystem.Protected, fmt.Sprint(".base", n)) || !contains(p.Filesystem.Protected, fmt.Sprint(".more", n)) {
				return fmt.Errorf("protected = %v, want both layers' entries", Values(p.Filesystem.Protected))
			}
			return nil
		},
	},
	"environment.pass": {loosen: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[environment]\npass = [\"V%d\"]\n", n) }},
	"environment.set":  {loosen: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[environment]\nset = { V%d = \"x\" }\n", n) }},
	"environment.deny": {
		base:    func(_ *rand.Rand, n int) string { return fmt.Sprintf("[environment]\ndeny = [\"BASE%d_*\"]\n", n) },
		tighten: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[environment]\ndeny = [\"MORE%d_*\"]\n", n) },
		tighter: func(p *Policy, n int) error {
			if !contains(p.Env.Deny, fmt.Sprintf("BASE%d_*", n)) || !contains(p.Env.Deny, fmt.Sprintf("MORE%d_*", n)) {
				return fmt.Errorf("environment.deny = %v, want both layers' entries", Values(p.Env.Deny))
			}
			return nil
		},
	},
	"audit": {loosen: func(r *rand.Rand, n int) string {
		return []string{
			"[audit.file]\nenabled = false\n",
			fmt.Sprintf("[audit.file]\npath = \"/tmp/elsewhere%d.jsonl\"\n", n),
			"[audit.stderr]\nenabled = true\n",
		}[r.IntN(3)]
	}},
	"approval.approver": {loosen: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[approval]\napprover = [\"/bin/yes%d\"]\n", n) }},
	"approval.timeout": {
		base: func(_ *rand.Rand, n int) string { return fmt.Sprintf("[approval]\ntimeout = \"%ds\"\n", n) },
		loosen: func(r *rand.Rand, n int) string {
			if r.IntN(4) == 0 {
				return "[approval]\ntimeout = \"0s\"\n"
			}
			return fmt.Sprintf("[approval]\ntimeout = \"%ds\"\n", n+1+r.IntN(1e5))
		},
		tighten: func(r *rand.Rand, n int) string { return fmt.Sprintf("[approval]\ntimeout = \"%ds\"\n", 1+r.IntN(n)) },
		tighter: func(p *Policy, n int) error {
			if v := p.Approval.Timeout.Value; v == 0 || v > time.Duration(n)*time.Second {
				return fmt.Errorf("approval.timeout = %v, want 1s..%ds", v, n)
			}
			return nil
		},
	},
	"credentials": {
		base: func(_ *rand.Rand, n int) string {
			return fmt.Sprintf("[[credentials]]\nname = \"c%d\"\nenv = \"TOKEN%d\"\nfrom_env = \"TOKEN%d\"\ncommands = [[\"gh\", \"**\"]]\n", n, n, n)
		},
		loosen: func(r *rand.Rand, n int) string {
			if r.IntN(2) == 0 {
				return fmt.Sprintf("[[credentials]]\nname = \"c%d\"\ndecision = \"allow\"\n", n)
			}
			return fmt.Sprintf("[[credentials]]\nname = \"new%d\"\nenv = \"NEW%d\"\nfrom_env = \"NEW%d\"\ncommands = [[\"curl\", \"**\"]]\n", n, n, n)
		},
		tighten: func(_ *rand.Rand, n int) string {
			return fmt.Sprintf("[[credentials]]\nname = \"c%d\"\nremove = true\n", n)
		},
		tighter: func(p *Policy, n int) error {
			if len(p.Credentials) != 0 {
				return fmt.Errorf("credentials = %v, want c%d removed", p.Credentials, n)
			}
			return nil
		},
	},
	"network": {
		base: func(_ *rand.Rand, n int) string {
			return fmt.Sprintf("[network]\nmode = \"proxy\"\nallow = [\"h%d.example\", \"keep.example\"]\n", n)
		},
		loosen: func(r *rand.Rand, n int) string {
			return []string{
				fmt.Sprintf("[network]\nallow = [\"other%d.example\"]\n", n),
				"[network]\nmode = \"full\"\n",
				"[network]\nunlisted = \"ask\"\n",
				"[network]\npresets = [\"git-hosts\"]\n",
				fmt.Sprintf("[network]\nallow_private = [\"h%d.example\"]\n", n),
				"[network]\nextra_ca = \"/etc/evil-ca.pem\"\n",
			}[r.IntN(6)]
		},
		tighten: func(r *rand.Rand, n int) string {
			return []string{
				fmt.Sprintf("[network]\ndeny = [\"h%d.example\"]\n", n),
				"[network]\nallow = [\"keep.example\"]\n",
				"[network]\nmode = \"off\"\n",
			}[r.IntN(3)]
		},
		tighter: func(p *Policy, n int) error {
			rules, err := netpolicy.Compile(p.Network.Value)
			if err != nil {
				return err
			}
			if d := rules.Decide(fmt.Sprintf("h%d.example", n), 443); d.Verdict == netpolicy.Allow && p.Network.From.Layer != LayerWorkspace {
				return fmt.Errorf("network from %v, want the workspace's narrowing", p.Network.From)
			}
			for _, host := range []string{fmt.Sprintf("other%d.example", n), "github.com"} {
				if d := rules.Decide(host, 443); d.Verdict != netpolicy.Deny {
					return fmt.Errorf("%s is %v after tightening", host, d.Verdict)
				}
			}
			return nil
		},
	},
	"commands": {
		base: fixed("[commands]\ndefault = \"ask\"\n"),
		loosen: func(r *rand.Rand, n int) string {
			if r.IntN(2) == 0 {
				return "[commands]\ndefault = \"allow\"\n"
			}
			return fmt.Sprintf("[[commands.rule]]\nname = \"r%d\"\nmatch = [\"tool%d\", \"**\"]\ndecision = \"allow\"\n", n, n)
		},
		tighten: func(r *rand.Rand, n int) string {
			if r.IntN(2) == 0 {
				return "[commands]\ndefault = \"deny\"\n"
			}
			return fmt.Sprintf("[[commands.rule]]\nname = \"r%d\"\nmatch = [\"tool%d\", \"**\"]\ndecision = \"deny\"\n", n, n)
		},
		tighter: func(p *Policy, n int) error {
			if p.Commands.Default < cmdpolicy.Ask {
				return fmt.Errorf("commands.default = %v, want ask or deny", p.Commands.Default)
			}
			if p.Commands.Default != cmdpolicy.Deny && !slices.ContainsFunc(p.Commands.Rules, func(r cmdpolicy.Rule) bool { return r.Name == fmt.Sprint("r", n) }) {
				return fmt.Errorf("the workspace's rule and default were both dropped: %+v", p.Commands)
			}
			return nil
		},
	},
	"limits.timeout":       limitCase("limits.timeout", func(p *Policy) uint64 { return uint64(p.Limits.Timeout.Value / time.Second) }, "s"),
	"limits.max_processes": limitCase("limits.max_processes", func(p *Policy) uint64 { return p.Limits.MaxProcesses.Value }, ""),
	"limits.open_files":    limitCase("limits.open_files", func(p *Policy) uint64 { return p.Limits.OpenFiles.Value }, ""),
	"limits.file_size":     limitCase("limits.file_size", func(p *Policy) uint64 { return p.Limits.FileSize.Value }, ""),
	"limits.memory":        limitCase("limits.memory", func(p *Policy) uint64 { return p.Limits.Memory.Value }, ""),
	"limits.tmp_size":      limitCase("limits.tmp_size", func(p *Policy) uint64 { return p.Limits.TmpSize.Value }, ""),
}

func mergeBodies(t *testing.T, user, workspace string) (*Policy, error) {
	t.Helper()
	u, err := ParseFile(LayerUser, "/home/u/.config/cordon/policy.toml", []byte("version = 1\n"+user))
	if err != nil {
		t.Fatalf("user layer %q: %v", user, err)
	}
	w, err := ParseFile(LayerWorkspace, "/w/proj/.cordon/policy.toml", []byte("version = 1\n"+workspace))
	if err != nil {
		t.Fatalf("workspace layer %q: %v", workspace, err)
	}
	return Merge([]*Layer{u, w}, Options{Workspace: "/w/proj", Home: "/home/u"})
}

// TestUntrustedLayerOnlyTightensEveryKey: for every key of the file format
// (found by reflection), random loosenings written by an untrusted
// workspace file are refused at that key, and random tightenings are
// taken and leave the policy no wider.
func TestUntrustedLayerOnlyTightensEveryKey(t *testing.T) {
	rows := map[string]*gateRow{}
	for i := range gateTable {
		rows[gateTable[i].key] = &gateTable[i]
	}
	for _, key := range fileKeys(reflect.TypeFor[fileV1](), "") {
		if key == "version" {
			continue
		}
		t.Run(key, func(t *testing.T) {
			c, ok := gateCases[key]
			if !ok {
				t.Fatalf("no gateCase for %s: add how to loosen and tighten it", key)
			}
			row := rows[key]
			switch {
			case row == nil:
				t.Fatalf("no gate row") // TestEveryKeyHasAGateRow says more
			case c.loosen == nil && row.change != addOnly:
				t.Fatalf("only add-only keys may lack a loosening; %s is %d", key, row.change)
			case c.tighten == nil && row.change != forbidden && row.change != userOnly:
				t.Fatalf("only forbidden keys may lack a tightening; %s is %d", key, row.change)
			}
			base := func(*rand.Rand, int) string { return "" }
			if c.base != nil {
				base = c.base
			}
			r := rand.New(rand.NewPCG(16, uint64(len(key))))
			for i := 0; i < 25; i++ {
				n := 2 + r.IntN(5000)
				b := base(r, n)
				if c.loosen != nil {
					body := c.loosen(r, n)
					_, err := mergeBodies(t, b, body)
					var fe *FileError
					if !errors.As(err, &fe) || !strings.HasPrefix(fe.Key, key) || !strings.HasSuffix(fe.File, ".cordon/policy.toml") {
						t.Fatalf("base %q, workspace %q: err = %v, want it refused at %s in the workspace file", b, body, err, key)
					}
				}
				if c.tighten != nil {
					body := c.tighten(r, n)
					p, err := mergeBodies(t, b, body)
					if err != nil {
						t.Fatalf("base %q, workspace %q: tightening refused: %v", b, body, err)
					}
					if err := c.tighter(p, n); err != nil {
						t.Fatalf("base %q, workspace %q: %v", b, body, err)
					}
				}
			}
		})
	}
}
