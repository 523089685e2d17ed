package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/policy/cmdrules"
	"github.com/cordon-sandbox/cordon/policy/credscope"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// fileV1 is the TOML shape of a policy file, version 1. Pointers and nil
// slices mean "not set in this file", so a layer changes only what it names.
type fileV1 struct {
	Version       *int64      `toml:"version"`
	Mode          *string     `toml:"mode"`
	AllowDegraded []string    `toml:"allow_degraded"`
	Filesystem    *fileFS     `toml:"filesystem"`
	Environment   *fileEnv    `toml:"environment"`
	Limits        *fileLimits `toml:"limits"`
	// Commands is the command-rule section, in policy/cmdrules's format
	// (docs/commands.md).
	Commands *cmdrules.Config `toml:"commands"`
	// Audit chooses the audit sinks (docs/audit.md, "Configuration").
	Audit *audit.Config `toml:"audit"`
	// Network says what the command may reach, through cordon's proxy
	// (docs/network.md).
	Network *netpolicy.Config `toml:"network"`
	// Approval says who answers when a rule asks (docs/approvals.md).
	Approval *fileApproval `toml:"approval"`
	// Credentials say which secret may reach which command
	// (docs/credentials.md).
	Credentials credscope.Scopes `toml:"credentials"`
}

type fileApproval struct {
	// Approver is a program (and its arguments) that answers questions.
	Approver []string `toml:"approver"`
	// Timeout is how long a human has to answer; no answer means deny.
	Timeout any `toml:"timeout"`
}

type fileFS struct {
	Writable             []string `toml:"writable"`
	DenyRead             []string `toml:"deny_read"`
	AllowRead            []string `toml:"allow_read"`
	Protected            []string `toml:"protected"`
	Unprotect            []string `toml:"unprotect"`
	HostSockets          []string `toml:"host_sockets"`
	TrustWorkspacePolicy *bool    `toml:"trust_workspace_policy"`
}

type fileEnv struct {
	Pass []string          `toml:"pass"`
	Deny []string          `toml:"deny"`
	Set  map[string]string `toml:"set"`
}

type fileLimits struct {
	Timeout      any `toml:"timeout"`
	MaxProcesses any `toml:"max_processes"`
	OpenFiles    any `toml:"open_files"`
	FileSize     any `toml:"file_size"`
	Memory       any `toml:"memory"`
	TmpSize      any `toml:"tmp_size"`
}

// Layer is one parsed policy file, not yet merged.
type Layer struct {
	Kind LayerKind
	Path string
	// SHA256 of the file's bytes, for the audit trail.
	SHA256 string

	file  fileV1
	lines map[string]int // dotted key -> line of its definition
	data  []byte
}

// ParseFile parses one policy file's bytes. path is used in errors only.
func ParseFile(kind LayerKind, path string, data []byte) (*Layer, error) {
	sum := sha256.Sum256(data)
	l := &Layer{Kind: kind, Path: path, SHA256: hex.EncodeToString(sum[:]), data: data}

	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l.file); err != nil {
		return nil, decodeError(path, err)
	}
	l.lines = keyLines(data)
	if err := l.checkTextValues(); err != nil {
		return nil, err
	}
	if l.file.Version == nil {
		return nil, &FileError{File: path, Line: 1, Msg: "missing version",
			Fix: fmt.Sprintf("start the file with: version = %d", Version)}
	}
	if *l.file.Version != Version {
		return nil, l.errorf("version", "unsupported version %d", *l.file.Version).
			withHint(fmt.Sprintf("this cordon reads policy version %d; see docs/policy.md", Version))
	}
	if err := l.checkValues(); err != nil {
		return nil, err
	}
	return l, nil
}

// keyLines maps every dotted key defined in data to its line, so that errors
// found after decoding can still point at the line. Array entries share the
// line of their key.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	entry := ""                // the array-table entry being read, as T[i]
	arrays := map[string]int{} // entries of each array table so far
	lineOf := func(n *unstable.Node) int {
		off := int(n.Raw.Offset)
		if n.Raw.Length == 0 {
			// Key nodes keep their bytes in Data, usually a slice of the input.
			if len(n.Data) == 0 {
				return 0
			}
			r, ok := rangeOf(&p, n.Data)
			if !ok {
				return 0
			}
			off = int(r.Offset)
		}
		return 1 + bytes.Count(data[:min(off, len(data))], []byte{'\n'})
	}
	keyOf := func(n *unstable.Node) ([]string, int) {
		var parts []string
		line := 0
		it := n.Key()
		for it.Next() {
			k := it.Node()
			if line == 0 {
				line = lineOf(k)
			}
			parts = append(parts, string(k.Data))
		}
		return parts, line
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			parts, line := keyOf(e)
			table = parts
			lines[strings.Join(table, ".")] = line
			entry = ""
			if e.Kind == unstable.ArrayTable {
				// Each [[T]] is entry T[i]; its keys are T[i].KEY too.
				name := strings.Join(table, ".")
				entry = fmt.Sprintf("%s[%d]", name, arrays[name])
				arrays[name]++
				lines[entry] = line
			}
		case unstable.KeyValue:
			parts, line := keyOf(e)
			full := strings.Join(append(append([]string{}, table...), parts...), ".")
			lines[full] = line
			if entry != "" {
				lines[entry+"."+strings.Join(parts, ".")] = line
			}
			if v := e.Value(); v != nil && v.Kind == unstable.Array {
				// Entries of a list spread over lines have lines of their
				// own, as key[i].
				it := v.Children()
				for i := 0; it.Next(); i++ {
					if n := lineOf(it.Node()); n > 0 {
						lines[fmt.Sprintf("%s[%d]", full, i)] = n
					}
				}
			}
			if v := e.Value(); v != nil && v.Kind == unstable.InlineTable {
				it := v.Children()
				for it.Next() {
					kv := it.Node()
					if kv.Kind != unstable.KeyValue {
						continue
					}
					sub, l := keyOf(kv)
					lines[full+"."+strings.Join(sub, ".")] = l
				}
			}
		}
	}
	return lines
}

func rangeOf(p *unstable.Parser, b []byte) (r unstable.Range, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return p.Range(b), true
}

// line returns the line of a dotted key, falling back to its parents; an
// entry of a list (key[i]) falls back to the list.
func (l *Layer) line(key string) int {
	if n, ok := l.lines[key]; ok {
		return n
	}
	if i := strings.LastIndexByte(key, '['); i > 0 && strings.HasSuffix(key, "]") {
		key = key[:i]
	}
	for k := key; k != ""; {
		if n, ok := l.lines[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

func (l *Layer) errorf(key, format string, args ...any) *FileError {
	return &FileError{File: l.Path, Line: l.line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// keyErrors turns the errors of a section's own checks (netpolicy, audit),
// which name their key, into FileErrors at that key's line, one per
// problem. Errors that name no key are put at the section.
func (l *Layer) keyErrors(section string, err error, hint string) []error {
	var out []error
	for _, e := range leaves(err) {
		key, msg := section, e.Error()
		var nk *netpolicy.KeyError
		var ak *audit.KeyError
		switch {
		case errors.As(e, &nk):
			key, msg = nk.Key, nk.Msg
		case errors.As(e, &ak):
			key, msg = ak.Key, ak.Msg
		}
		out = append(out, &FileError{File: l.Path, Line: l.line(key), Key: key, Msg: msg, Fix: hint})
	}
	// In the order of the file.
	sort.SliceStable(out, func(i, j int) bool { return out[i].(*FileError).Line < out[j].(*FileError).Line })
	return out
}

// leaves returns the errors joined in err (errors.Join), or err itself.
func leaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, leaves(e)...)
	}
	return out
}

// checkValues validates what can be checked within one file.
func (l *Layer) checkValues() error {
	var errs []error
	f := &l.file
	if f.Mode != nil {
		if _, err := ParseMode(*f.Mode); err != nil {
			errs = append(errs, l.errorf("mode", "%v", err))
		}
	}
	for _, d := range f.AllowDegraded {
		if _, ok := KnownDegraded[Degraded(d)]; !ok {
			errs = append(errs, l.errorf("allow_degraded", "unknown weaker mode %q", d).
				withHint(fmt.Sprintf("the weaker modes are: %s", degradedNames())))
		}
	}
	if fs := f.Filesystem; fs != nil {
		if f.Mode != nil && Mode(*f.Mode) == ModeReadOnly && len(fs.Writable) > 0 {
			errs = append(errs, l.errorf("filesystem.writable", "writable roots conflict with mode = %q in the same file", ModeReadOnly).
				withHint("remove filesystem.writable or choose mode = \"workspace-write\""))
		}
		for _, p := range fs.Writable {
			if !isAbsOrHome(p) {
				errs = append(errs, l.errorf("filesystem.writable", "writable root %q is not an absolute path", p).
					withHint("write it as /absolute/path or ~/path"))
			}
		}
		for _, p := range fs.HostSockets {
			if !isAbsOrHome(p) || hasGlob(p) {
				errs = append(errs, l.errorf("filesystem.host_sockets", "host socket %q is not an absolute path", p).
					withHint("name the socket file exactly, as /absolute/path or ~/path (no globs)"))
			}
		}
		for _, p := range append(append([]string{}, fs.Protected...), fs.Unprotect...) {
			if hasGlob(p) {
				errs = append(errs, l.errorf("filesystem.protected", "protected path %q contains a glob", p).
					withHint("protected paths are exact paths (relative to each writable root, or absolute); globs are allowed in deny_read"))
			}
			if p == "" || strings.HasPrefix(p, "../") || p == ".." || strings.Contains(p, "/../") {
				errs = append(errs, l.errorf("filesystem.protected", "protected path %q must stay inside the root it is relative to", p))
			}
		}
		for _, p := range append(append([]string{}, fs.DenyRead...), fs.AllowRead...) {
			if p == "" {
				errs = append(errs, l.errorf("filesystem.deny_read", "empty path"))
			}
		}
		seen := map[string]bool{}
		for _, p := range fs.DenyRead {
			seen[p] = true
		}
		for _, p := range fs.AllowRead {
			if seen[p] {
				errs = append(errs, l.errorf("filesystem.allow_read", "%q is both denied and allowed in the same file", p).
					withHint("keep it in one of filesystem.deny_read and filesystem.allow_read"))
			}
		}
	}
	if env := f.Environment; env != nil {
		for _, p := range env.Pass {
			if !validEnvPattern(p) {
				errs = append(errs, l.errorf("environment.pass", "bad variable pattern %q", p).
					withHint("use an exact name such as CI, or a prefix such as NODE_*"))
			}
		}
		for _, p := range env.Deny {
			if !validEnvPattern(strings.ReplaceAll(p, "*", "X")) {
				errs = append(errs, l.errorf("environment.deny", "bad variable pattern %q", p))
			}
		}
		for k := range env.Set {
			if !validEnvPattern(k) || strings.Contains(k, "*") {
				errs = append(errs, l.errorf("environment.set."+k, "bad variable name %q", k))
			}
		}
		passSet := map[string]bool{}
		for _, p := range env.Pass {
			passSet[p] = true
		}
		for _, p := range env.Deny {
			if passSet[p] {
				errs = append(errs, l.errorf("environment.deny", "%q is both passed and denied in the same file", p))
			}
		}
	}
	if a := f.Approval; a != nil {
		if a.Approver != nil && (len(a.Approver) == 0 || a.Approver[0] == "") {
			errs = append(errs, l.errorf("approval.approver", "empty approver command").
				withHint(`write the program and its arguments, e.g. approver = ["/usr/local/bin/approve", "--team", "infra"]`))
		}
		if a.Timeout != nil {
			if _, err := parseDuration(a.Timeout); err != nil {
				errs = append(errs, l.errorf("approval.timeout", "%v", err))
			}
		}
	}
	if len(f.Credentials) > 0 {
		if err := f.Credentials.Validate(); err != nil {
			errs = append(errs, l.errorf("credentials", "%v", err).
				withHint("see docs/credentials.md for the [[credentials]] keys"))
		}
	}
	if f.Network != nil {
		if err := f.Network.Validate(); err != nil {
			errs = append(errs, l.keyErrors("network", err, "see docs/network.md for the [network] keys")...)
		}
	}
	if f.Commands != nil {
		if err := f.Commands.Validate(); err != nil {
			errs = append(errs, l.errorf("commands", "%v", err).
				withHint("see docs/commands.md for the rule format"))
		}
	}
	if lim := f.Limits; lim != nil {
		if lim.Timeout != nil {
			if _, err := parseDuration(lim.Timeout); err != nil {
				errs = append(errs, l.errorf("limits.timeout", "%v", err))
			}
		}
		for _, c := range []struct {
			key  string
			v    any
			size bool
		}{
			{"limits.max_processes", lim.MaxProcesses, false},
			{"limits.open_files", lim.OpenFiles, false},
			{"limits.file_size", lim.FileSize, true},
			{"limits.memory", lim.Memory, true},
			{"limits.tmp_size", lim.TmpSize, true},
		} {
			if c.v == nil {
				continue
			}
			if _, err := parseCount(c.v, c.size); err != nil {
				errs = append(errs, l.errorf(c.key, "%v", err))
			}
		}
	}
	return errors.Join(errs...)
}

func degradedNames() string {
	var names []string
	for d, what := range KnownDegraded {
		names = append(names, fmt.Sprintf("%q (%s)", d, what))
	}
	// Sorted: the text must not change from one run to the next.
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func isAbsOrHome(p string) bool {
	return strings.HasPrefix(p, "/") || p == "~" || strings.HasPrefix(p, "~/")
}

func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// validEnvPattern accepts NAME or NAME_PREFIX* (a single trailing star).
func validEnvPattern(p string) bool {
	p = strings.TrimSuffix(p, "*")
	if p == "" {
		return false
	}
	for i, c := range p {
		switch {
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// parseCount reads a positive count, or a size such as "512MiB" when size is
// set. Zero means unlimited.
func parseCount(v any, size bool) (uint64, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, fmt.Errorf("must not be negative, got %d", x)
		}
		return uint64(x), nil
	case string:
		if !size {
			return 0, fmt.Errorf("want a number, got %q", x)
		}
		return parseSize(x)
	}
	return 0, fmt.Errorf("want a number%s, got %v", map[bool]string{true: ` or a size such as "2GiB"`}[size], v)
}

func parseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   uint64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	mult := uint64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q: want a whole number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB)", s)
	}
	if n > ^uint64(0)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}
