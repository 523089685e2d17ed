package mcpserver

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/cordon-sandbox/cordon/policy"
)

// redactor cleans cordon's own messages before they reach the agent: the
// values of environment variables the policy withholds from commands, and
// host paths outside the workspace, are replaced by placeholders.
type redactor struct {
	workspace string
	secrets   []string // longest first, so that a value inside another is not half-replaced
}

// minSecretLen: shorter values ("1", "en") are too common to redact without
// mangling every message.
const minSecretLen = 6

func newRedactor(workspace string, p *policy.Policy, environ []string) *redactor {
	r := &redactor{workspace: filepath.Clean(workspace)}
	_, decisions := p.FilterEnv(environ)
	withheld := map[string]bool{}
	for _, d := range decisions {
		if !d.Passed {
			withheld[d.Name] = true
		}
	}
	seen := map[string]bool{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if ok && withheld[name] && len(val) >= minSecretLen && !seen[val] {
			seen[val] = true
			r.secrets = append(r.secrets, val)
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

// absPath finds absolute paths (and ~/ paths) in free text: a slash or ~/
// at the start of the text or after a space, quote, bracket, =, comma or
// colon, up to the next character that cannot be part of a path in a
// message. It is compiled on first use, not at start: every cordon
// command links this package, and only cordon mcp redacts.
var absPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(^|[\s"'(\[=,:])((?:~|/)[^\s"'()\[\]<>,;:]*)`)
})

const outsidePath = "<path outside the workspace>"

func (r *redactor) clean(msg string) string {
	for _, s := range r.secrets {
		msg = strings.ReplaceAll(msg, s, "<withheld>")
	}
	re := absPath()
	return re.ReplaceAllStringFunc(msg, func(m string) string {
		sub := re.FindStringSubmatch(m)
		lead, p := sub[1], sub[2]
		if strings.HasPrefix(p, "/") && r.inside(strings.TrimRight(p, ".")) {
			return m
		}
		return lead + outsidePath
	})
}

func (r *redactor) inside(p string) bool {
	return within(r.workspace, filepath.Clean(p))
}

// within reports whether p is dir or below it; both must be clean.
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return strings.HasPrefix(p, dir+"/")
}
