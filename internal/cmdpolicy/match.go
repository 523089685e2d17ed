package cmdpolicy

import (
	"fmt"
	"slices"
	"strings"
)

// subject is one command as the rules see it.
type subject struct {
	// name is the program name after its directory is removed; "" when the
	// program is only known at run time.
	name string
	// argv is the command as written; argv[0] is the program.
	argv []word
	// readings are argv with the global options of a known program removed
	// ("git -C dir push" is read as "git push"), or a script a shell runs
	// read as a program ("bash build.sh" as "build.sh"). There may be
	// several when an option's meaning is ambiguous. Empty when there is
	// nothing to remove.
	readings [][]word
	// stdin is the literal text a here-document or here-string feeds to the
	// command, if any.
	stdin *string
	// dotglob: the command line may turn on bash's dotglob option, so a
	// wildcard may also name files whose names start with '.'.
	dotglob bool
}

// each calls f with argv and every reading and combines the verdicts: the
// written form is always a true reading; the normalized readings are
// alternatives, so a rule applies to them only if it applies to all.
func (s *subject) each(f func(argv []word) verdict) verdict {
	v := f(s.argv)
	if v == yes || len(s.readings) == 0 {
		return v
	}
	all, some := yes, no
	for _, r := range s.readings {
		rv := f(r)
		all, some = min(all, rv), max(some, rv)
	}
	switch {
	case all == yes:
		return yes
	case some == no:
		return v
	}
	return max(v, maybe)
}

// matcher decides whether a rule applies to a command.
type matcher interface {
	// match returns the verdict and, for maybe, why the rule only could apply.
	match(s *subject) (verdict, string)
	// String describes what the rule matches, for listings.
	String() string
}

// patternMatcher implements the rule language of Rule.Match and Rule.AnyArg.
type patternMatcher struct {
	tokens []pattern // tokens[0] is the program
	rest   bool      // the pattern ends with "**"
	anyArg []pattern
}

const maybeDynamic = "it depends on arguments only known at run time"

func (m *patternMatcher) match(s *subject) (verdict, string) {
	v := s.each(m.matchArgv)
	if v == maybe {
		return v, maybeDynamic
	}
	return v, ""
}

func (m *patternMatcher) matchArgv(argv []word) verdict {
	// Most rules are for another program: say so before matchPrefix
	// allocates its table.
	if len(argv) > 0 && len(m.tokens) > 0 && argv[0].exact() && programVerdict(m.tokens[0], argv[0].value) == no {
		return no
	}
	v := m.matchPrefix(argv)
	if v == no || len(m.anyArg) == 0 {
		return v
	}
	return min(v, matchAnyArg(m.anyArg, argv[1:]))
}

// matchPrefix matches the tokens against the words, where a word that may
// become zero or several arguments can stand for any number of tokens.
// Such words never give more than maybe, except when "**" absorbs them.
func (m *patternMatcher) matchPrefix(argv []word) verdict {
	n, k := len(m.tokens), len(argv)
	memo := make([]int8, (n+1)*(k+1))
	for i := range memo {
		memo[i] = -1
	}
	var f func(i, j int) verdict
	f = func(i, j int) verdict {
		if i == n {
			if m.rest || j == k {
				return yes
			}
			for _, w := range argv[j:] {
				if w.fields != anyFields {
					return no
				}
			}
			return maybe // the remaining words may all vanish
		}
		if j == k {
			return no
		}
		cell := &memo[i*(k+1)+j]
		if *cell >= 0 {
			return verdict(*cell)
		}
		w := argv[j]
		v := no
		if w.fields == oneField {
			if t := m.token(i, w); t != no {
				v = min(t, f(i+1, j+1))
			}
		} else {
			if w.fields == anyFields {
				v = max(v, min(maybe, f(i, j+1))) // it vanishes
			}
			if i > 0 && m.tokens[i].couldMatch(w) || i == 0 {
				// It provides this argument, then more or no more.
				v = max(v, min(maybe, max(f(i+1, j), f(i+1, j+1))))
			}
		}
		*cell = int8(v)
		return v
	}
	return f(0, 0)
}

// token judges token i against a one-argument word.
func (m *patternMatcher) token(i int, w word) verdict {
	if i > 0 {
		return m.tokens[i].matchWord(w)
	}
	if !w.exact() {
		return maybe
	}
	return programVerdict(m.tokens[0], w.value)
}

// programVerdict compares a program token with the program word as written.
// The name must match exactly; a name that matches only when case and a
// Windows executable suffix are ignored ("GIT.exe") could still start the
// same program on a case-insensitive file system, so it gives maybe.
func programVerdict(p pattern, prog string) verdict {
	name := programName(prog)
	if p.matchString(name) {
		return yes
	}
	for _, alt := range alternativeNames(name) {
		if p.matchString(alt) {
			return maybe
		}
	}
	return no
}

// alternativeNames are the names of programs that name could start besides
// its own: the name with case and a Windows suffix ignored ("GIT.exe" may be
// git on a case-insensitive file system), and for a relative path the file's
// name ("./git" and "../bin/git" may be copies of git, and ".venv/bin/pip"
// is pip).
func alternativeNames(name string) []string {
	var alts []string
	add := func(n string) {
		if n != "" && n != name && !slices.Contains(alts, n) {
			alts = append(alts, n)
		}
	}
	add(foldProgramName(name))
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		base := name[i+1:]
		add(base)
		add(foldProgramName(base))
	}
	return alts
}

// relativeBase returns the file name of a relative path to a program
// ("bin/git" is git), or "" for a name without a directory.
func relativeBase(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return ""
}

func matchAnyArg(pats []pattern, args []word) verdict {
	v := no
	for _, w := range args {
		for _, p := range pats {
			if w.exact() {
				if p.matchString(w.value) {
					return yes
				}
			} else if p.couldMatch(w) {
				v = maybe
			}
		}
	}
	return v
}

func (m *patternMatcher) String() string {
	toks := make([]string, 0, len(m.tokens)+1)
	for _, t := range m.tokens {
		toks = append(toks, fmt.Sprintf("%q", t.src))
	}
	if m.rest {
		toks = append(toks, `"**"`)
	}
	s := "match = [" + strings.Join(toks, ", ") + "]"
	if len(m.anyArg) > 0 {
		args := make([]string, len(m.anyArg))
		for i, a := range m.anyArg {
			args[i] = fmt.Sprintf("%q", a.src)
		}
		s += ", any_arg = [" + strings.Join(args, ", ") + "]"
	}
	return s
}

// programName is the name rules compare: the last element of an absolute
// path ("/usr/bin/git", "~/bin/git", `C:\Git\bin\git.exe`). A relative path
// with a slash ("./git", "bin/git") is kept whole: it names a file in the
// working directory rather than the program found on PATH, so a rule for
// git only could apply to it (see alternativeNames).
func programName(prog string) string {
	seps := "/"
	switch {
	case strings.HasPrefix(prog, "/"), strings.HasPrefix(prog, "~"):
	case isWindowsAbs(prog):
		seps = `/\`
	default:
		return prog
	}
	t := strings.TrimRight(prog, seps)
	if i := strings.LastIndexAny(t, seps); i >= 0 {
		t = t[i+1:]
	}
	if t == "" {
		return prog
	}
	return t
}

func isWindowsAbs(s string) bool {
	if strings.HasPrefix(s, `\\`) {
		return true
	}
	return len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') &&
		(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}

// foldProgramName lower-cases name and removes a Windows executable suffix.
func foldProgramName(name string) string {
	n := strings.ToLower(name)
	for _, ext := range []string{".exe", ".com", ".bat", ".cmd"} {
		if t, ok := strings.CutSuffix(n, ext); ok && t != "" {
			return t
		}
	}
	return n
}

// looksAlike reports whether a program name has characters outside
// printable ASCII: a Cyrillic "і" in "gіt", a zero-width joiner, a control
// character. Such a name never matches a rule written in ASCII, so it could
// be used to slip past one.
func looksAlike(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] > 0x7e {
			return true
		}
	}
	return false
}

// programIs judges whether the command's program is one of names: yes
// exactly, maybe when it matches only one of its alternative names or when
// the program is only known at run time, else no.
func programIs(s *subject, names ...string) verdict {
	if s.name == "" {
		return maybe
	}
	alts := alternativeNames(s.name)
	v := no
	for _, n := range names {
		switch {
		case n == s.name:
			return yes
		case slices.Contains(alts, n):
			v = maybe
		}
	}
	return v
}
