// Package gitguard decides which settings of a git repository's config are
// safe to leave in a repository that a sandboxed command made: the ones that
// describe the repository (format, remotes, branches, the user's name), and
// none that makes git run a program (core.fsmonitor, core.hooksPath,
// core.pager, aliases, filters, diff and merge drivers, credential helpers,
// gpg.program, includes, ...). It is pure: the sandbox calls it when a run
// that made a repository ends, to disarm what the command could have
// planted for the next git run outside (sandbox/gitdisarm_linux.go).
//
// The rule is an allowlist. A key this package does not know is unsafe, so
// that a setting git adds in a later version cannot slip through; a config
// it cannot parse is unsafe as a whole.
package gitguard

import (
	"bytes"
	"fmt"
	"strings"
)

// Setting is one key = value of a git config file, with the key as git
// spells it canonically: section[.subsection].name, section and name in
// lower case, the subsection as written.
type Setting struct {
	Section    string
	Subsection string
	Name       string
	Value      string
	// Bare: a key without "=" (a boolean true).
	Bare bool
}

// Key is the setting's full name.
func (s Setting) Key() string {
	if s.Subsection != "" {
		return s.Section + "." + s.Subsection + "." + s.Name
	}
	return s.Section + "." + s.Name
}

// Parse reads a git config file. It follows git-config(1)'s syntax:
// [section] and [section "subsection"] headers (and the old
// [section.subsection]), name = value lines, bare names, quoted values with
// \" \\ \n \t \b escapes, a backslash before the newline continuing a
// value, and comments after # or ; outside quotes.
func Parse(data []byte) ([]Setting, error) {
	var out []Setting
	var section, subsection string
	lines := bytes.Split(data, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(string(lines[i]), "\r")
		t := strings.TrimLeft(line, " \t")
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			end := strings.IndexByte(t, ']')
			if end < 0 {
				return nil, fmt.Errorf("line %d: section header without ]", i+1)
			}
			var err error
			if section, subsection, err = parseHeader(t[1:end]); err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			t = strings.TrimLeft(t[end+1:], " \t")
			if t == "" || t[0] == '#' || t[0] == ';' {
				continue
			}
		}
		if section == "" {
			return nil, fmt.Errorf("line %d: a setting before any section", i+1)
		}
		name, rest := t, ""
		if j := strings.IndexAny(t, "= \t#;"); j >= 0 {
			name, rest = t[:j], t[j:]
		}
		if !validName(name) {
			return nil, fmt.Errorf("line %d: bad key name %q", i+1, name)
		}
		s := Setting{Section: section, Subsection: subsection, Name: strings.ToLower(name)}
		rest = strings.TrimLeft(rest, " \t")
		switch {
		case rest == "" || rest[0] == '#' || rest[0] == ';':
			s.Bare = true
		case rest[0] == '=':
			value, more, err := parseValue(rest[1:], true)
			for more && err == nil {
				i++
				if i >= len(lines) {
					return nil, fmt.Errorf("line %d: value continued past the end", i)
				}
				var v string
				v, more, err = parseValue(strings.TrimRight(string(lines[i]), "\r"), false)
				value += v
			}
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			s.Value = value
		default:
			return nil, fmt.Errorf("line %d: expected = after %q", i+1, name)
		}
		out = append(out, s)
	}
	return out, nil
}

func validName(n string) bool {
	if n == "" || !isAlpha(n[0]) {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func parseHeader(h string) (section, subsection string, err error) {
	h = strings.TrimSpace(h)
	if i := strings.IndexAny(h, " \t"); i >= 0 {
		section, rest := h[:i], strings.TrimSpace(h[i:])
		if len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
			return "", "", fmt.Errorf("bad subsection in [%s]", h)
		}
		var b strings.Builder
		for j := 1; j < len(rest)-1; j++ {
			c := rest[j]
			if c == '\\' && j+1 < len(rest)-1 {
				j++
				c = rest[j]
			} else if c == '"' {
				return "", "", fmt.Errorf("bad subsection in [%s]", h)
			}
			b.WriteByte(c)
		}
		if !validSection(section) {
			return "", "", fmt.Errorf("bad section name %q", section)
		}
		return strings.ToLower(section), b.String(), nil
	}
	// [section] or the old [section.subsection] (subsection lower-cased).
	if i := strings.IndexByte(h, '.'); i >= 0 {
		if !validSection(h[:i]) {
			return "", "", fmt.Errorf("bad section name %q", h[:i])
		}
		return strings.ToLower(h[:i]), strings.ToLower(h[i+1:]), nil
	}
	if !validSection(h) {
		return "", "", fmt.Errorf("bad section name %q", h)
	}
	return strings.ToLower(h), "", nil
}

func validSection(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// parseValue reads a value up to the end of the line; more says a backslash
// before the newline continues it on the next line. Leading whitespace is
// dropped on the first line only, as git does.
func parseValue(v string, first bool) (string, bool, error) {
	var b strings.Builder
	quoted := false
	pending := "" // whitespace kept only if something follows
	if first {
		v = strings.TrimLeft(v, " \t")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			if i+1 == len(v) {
				b.WriteString(pending)
				return b.String(), true, nil
			}
			i++
			b.WriteString(pending)
			pending = ""
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case '"', '\\':
				b.WriteByte(v[i])
			default:
				return "", false, fmt.Errorf("bad escape \\%c", v[i])
			}
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '#' || c == ';'):
			return b.String(), false, nil
		case !quoted && (c == ' ' || c == '\t'):
			pending += string(c)
		default:
			b.WriteString(pending)
			pending = ""
			b.WriteByte(c)
		}
	}
	if quoted {
		return "", false, fmt.Errorf("unterminated quote")
	}
	return b.String(), false, nil
}

// Safe reports whether a setting may stay in a repository a sandboxed
// command made, and if not, why.
func Safe(s Setting) (bool, string) {
	key := s.Section + "." + s.Name
	if s.Subsection != "" {
		key = s.Section + ".*." + s.Name
	}
	rule, ok := allowed[key]
	if !ok {
		return false, "not a setting cordon knows to be harmless"
	}
	if rule != nil {
		if why := rule(s.Value); why != "" {
			return false, why
		}
	}
	return true, ""
}

// allowed lists the harmless keys; a non-nil function checks the value too.
var allowed = map[string]func(string) string{
	"core.repositoryformatversion": nil, "core.filemode": nil, "core.bare": nil,
	"core.logallrefupdates": nil, "core.ignorecase": nil, "core.precomposeunicode": nil,
	"core.symlinks": nil, "core.autocrlf": nil, "core.eol": nil, "core.safecrlf": nil,
	"core.sparsecheckout": nil, "core.sparsecheckoutcone": nil, "core.quotepath": nil,
	"core.abbrev": nil, "core.compression": nil, "core.loosecompression": nil,
	"core.bigfilethreshold": nil, "core.untrackedcache": nil, "core.checkstat": nil,
	"core.trustctime": nil, "core.preloadindex": nil, "core.commentchar": nil,
	"core.whitespace": nil, "core.sharedrepository": nil, "core.worktree": nil,
	"core.splitindex": nil, "core.commitgraph": nil,

	"remote.*.url": url, "remote.*.pushurl": url, "remote.*.fetch": nil, "remote.*.push": nil,
	"remote.*.mirror": nil, "remote.*.tagopt": nil, "remote.*.prune": nil, "remote.*.prunetags": nil,
	"remote.*.promisor": nil, "remote.*.partialclonefilter": nil, "remote.*.skipdefaultupdate": nil,
	"remote.*.skipfetchall": nil,

	"branch.*.remote": nil, "branch.*.merge": nil, "branch.*.rebase": nil,
	"branch.*.pushremote": nil, "branch.*.description": nil,

	"user.name": nil, "user.email": nil, "user.signingkey": nil,
	"init.defaultbranch": nil,

	"extensions.objectformat": nil, "extensions.worktreeconfig": nil, "extensions.partialclone": nil,
	"extensions.refstorage": nil, "extensions.preciousobjects": nil, "extensions.noop": nil,

	"submodule.*.url": url, "submodule.*.active": nil, "submodule.*.branch": nil,
	"submodule.*.shallow": nil, "submodule.*.fetchrecursesubmodules": nil, "submodule.*.ignore": nil,
	"submodule.*.update": submoduleUpdate, "submodule.active": nil,

	"gc.auto": nil, "gc.autopacklimit": nil, "gc.autodetach": nil,
	"fetch.prune": nil, "fetch.recursesubmodules": nil,
	"pull.rebase": nil, "pull.ff": nil,
	"push.default": nil, "push.autosetupremote": nil,
	"merge.ff": nil, "merge.conflictstyle": nil,
	"rebase.autosquash": nil, "rebase.autostash": nil, "rebase.updaterefs": nil,
	"index.version": nil, "feature.manyfiles": nil,

	"lfs.url": url, "lfs.repositoryformatversion": nil, "lfs.locksverify": nil,
	"lfs.fetchinclude": nil, "lfs.fetchexclude": nil,
	"filter.*.clean":    lfsOnly("git-lfs clean -- %f"),
	"filter.*.smudge":   lfsOnly("git-lfs smudge -- %f"),
	"filter.*.process":  lfsOnly("git-lfs filter-process"),
	"filter.*.required": nil,
}

// url refuses transports that run a program (ext::) and values git could
// read as an option.
func url(v string) string {
	switch {
	case strings.HasPrefix(strings.ToLower(v), "ext::"):
		return "an ext:: transport runs a program"
	case strings.HasPrefix(v, "-"):
		return "a URL that starts with - could be read as an option"
	}
	return ""
}

func submoduleUpdate(v string) string {
	switch v {
	case "checkout", "rebase", "merge", "none":
		return ""
	}
	return "submodule update with a command runs it"
}

// lfsOnly allows a filter command only if it is Git LFS's own.
func lfsOnly(want string) func(string) string {
	return func(v string) string {
		if strings.TrimSpace(v) == want {
			return ""
		}
		return "a filter runs a program on every checkout and add"
	}
}

// Filter returns the settings of data that are safe, rewritten as a config
// file, and the keys it dropped with the reason for each. A file that does
// not parse is dropped as a whole.
func Filter(data []byte) (safe []byte, dropped []string, err error) {
	settings, err := Parse(data)
	if err != nil {
		return nil, []string{"the whole file: " + err.Error()}, err
	}
	var b strings.Builder
	last := ""
	for _, s := range settings {
		if ok, why := Safe(s); !ok {
			dropped = append(dropped, s.Key()+": "+why)
			continue
		}
		header := "[" + s.Section + "]"
		if s.Subsection != "" {
			header = fmt.Sprintf("[%s %s]", s.Section, quote(s.Subsection))
		}
		if header != last {
			b.WriteString(header + "\n")
			last = header
		}
		if s.Bare {
			fmt.Fprintf(&b, "\t%s\n", s.Name)
		} else {
			fmt.Fprintf(&b, "\t%s = %s\n", s.Name, quote(s.Value))
		}
	}
	return []byte(b.String()), dropped, nil
}

// quote writes a value so that Parse reads it back unchanged.
func quote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\b", `\b`)
	return `"` + r.Replace(v) + `"`
}
