package cmdpolicy

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// word is what cordon knows about one shell word before the shell runs:
// either its exact value, or a glob of the values it may take and how many
// arguments it may become.
type word struct {
	value   string // the exact value, when pattern is nil
	pattern glob   // the values each resulting argument may take, when not exact
	fields  fieldCount
	text    string // as written, for messages
	// pipe: the word is a process substitution, <(cmd), which becomes the
	// path of a pipe (/dev/fd/63), never the name of a file on disk.
	pipe bool
	// prefix is the literal text before the first part only known at run
	// time, which the (first) resulting argument starts with.
	prefix string
	// pathGlob: the word is literal text with unquoted *, ? or [...], which
	// the shell's pathname expansion turns into names of existing files.
	pathGlob bool
}

// fieldCount says how many arguments a word becomes.
type fieldCount uint8

const (
	oneField   fieldCount = iota // exactly one: literals, quoted expansions
	someFields                   // one or more: an unquoted glob such as *.go
	anyFields                    // zero or more: an unquoted $var or $(cmd)
)

func exactWord(s string) word { return word{value: s, text: quoteForDisplay(s)} }

// unknownWord is one argument of which nothing is known.
func unknownWord(text string) word { return word{pattern: anyGlob, text: text} }

// spreadWord is any number of arguments of which nothing is known, such as
// the file names xargs appends.
func spreadWord(text string) word {
	return word{pattern: anyGlob, fields: anyFields, text: text}
}

// exact reports whether the word is exactly one argument with a known value.
func (w word) exact() bool { return w.pattern == nil && w.fields == oneField }

// is reports whether the word is exactly s.
func (w word) is(s string) bool { return w.exact() && w.value == s }

// verdict is how a rule relates to a command: it does not apply, it could
// apply (depending on values only known at run time), or it applies.
type verdict uint8

const (
	no verdict = iota
	maybe
	yes
)

// maxBraceWords bounds brace expansion; a larger expansion is treated as
// unknown arguments instead.
const maxBraceWords = 64

// convertWord turns a parsed shell word into the argument(s) it becomes.
// Brace expansion ("a{b,c}") is done here, so one word may become several.
func convertWord(w *syntax.Word) []word {
	text := printNode(w)
	// SplitBraces rewrites the word in place; work on a shallow copy so the
	// tree the walker sees stays as parsed.
	cp := &syntax.Word{Parts: append([]syntax.WordPart(nil), w.Parts...)}
	if !syntax.SplitBraces(cp) {
		return []word{buildWord(cp.Parts, text)}
	}
	alts, ok := expandBraces(cp.Parts)
	if !ok {
		return []word{{pattern: anyGlob, fields: someFields, text: text}}
	}
	out := make([]word, 0, len(alts))
	for _, parts := range alts {
		if nullWord(parts) {
			// bash removes an unquoted empty word: "{git,} push" runs
			// "git push", not "git '' push".
			continue
		}
		out = append(out, buildWord(parts, text))
	}
	return out
}

// nullWord reports whether parts are an unquoted empty word, which the
// shell removes after expansion.
func nullWord(parts []syntax.WordPart) bool {
	for _, part := range parts {
		lit, ok := part.(*syntax.Lit)
		if !ok || lit.Value != "" {
			return false
		}
	}
	return true
}

// expandBraces expands comma brace expressions ("{a,b}"); sequence
// expressions ("{1..9}") stay as they are and count as globs.
func expandBraces(parts []syntax.WordPart) ([][]syntax.WordPart, bool) {
	results := [][]syntax.WordPart{nil}
	for _, part := range parts {
		br, isBrace := part.(*syntax.BraceExp)
		if !isBrace || br.Sequence {
			for i := range results {
				results[i] = append(results[i], part)
			}
			continue
		}
		var next [][]syntax.WordPart
		for _, elem := range br.Elems {
			elemAlts, ok := expandBraces(elem.Parts)
			if !ok {
				return nil, false
			}
			for _, prefix := range results {
				for _, ea := range elemAlts {
					combined := append(append([]syntax.WordPart(nil), prefix...), ea...)
					next = append(next, combined)
					if len(next) > maxBraceWords {
						return nil, false
					}
				}
			}
		}
		results = next
	}
	return results, true
}

// wordBuilder accumulates the parts of one word.
type wordBuilder struct {
	exact   strings.Builder
	pattern glob
	unknown bool // some part is only known at run time
	splits  bool // an unquoted expansion: field splitting applies
	globbed bool // an unquoted glob character: pathname expansion applies
	special bool // an extended glob or a brace sequence
	pipe    bool // a process substitution
	prefix  *string
}

// mark records where the literal prefix of the word ends.
func (b *wordBuilder) mark() {
	if b.prefix == nil {
		p := b.exact.String()
		b.prefix = &p
	}
}

func (b *wordBuilder) literal(s string) {
	b.exact.WriteString(s)
	b.pattern = append(b.pattern, literalGlob(s)...)
}

func (b *wordBuilder) unknownPart(splits bool) {
	b.mark()
	b.unknown = true
	b.splits = b.splits || splits
	b.pattern = b.pattern.appendAny()
}

// unquoted adds raw unquoted literal text: backslash escapes are removed and
// unescaped glob characters become wildcards.
func (b *wordBuilder) unquoted(raw string) {
	rs := runesOf(raw)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r {
		case '\\':
			if i+1 < len(rs) {
				i++
				r = rs[i]
			}
			b.literalRune(r)
		case '*':
			b.mark()
			b.globbed = true
			b.pattern = b.pattern.appendAny()
		case '?':
			b.mark()
			b.globbed = true
			b.pattern = append(b.pattern, globElem{kind: globOne})
		case '[':
			end := bracketEnd(rs, i)
			if end < 0 {
				b.literalRune(r)
				continue
			}
			b.mark()
			b.globbed = true
			b.pattern = append(b.pattern, globElem{kind: globOne})
			i = end
		default:
			b.literalRune(r)
		}
	}
}

func (b *wordBuilder) literalRune(r rune) {
	if r >= invalidByteBase {
		b.exact.WriteByte(byte(r - invalidByteBase))
	} else {
		b.exact.WriteRune(r)
	}
	b.pattern = append(b.pattern, globElem{kind: globRune, r: r})
}

// bracketEnd returns the index of the ']' closing the bracket expression that
// starts at rs[start], or -1 if there is none.
func bracketEnd(rs []rune, start int) int {
	i := start + 1
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		i++
	}
	if i < len(rs) && rs[i] == ']' {
		i++
	}
	for ; i < len(rs); i++ {
		if rs[i] == ']' {
			return i
		}
	}
	return -1
}

func (b *wordBuilder) dquoted(parts []syntax.WordPart) {
	for _, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.literal(unescapeDquote(p.Value))
		case *syntax.ParamExp:
			// "$@" and "${a[@]}" become as many arguments as there are values.
			b.unknownPart(isListExpansion(p))
		default:
			b.unknownPart(false)
		}
	}
}

func isListExpansion(p *syntax.ParamExp) bool {
	if p.Param != nil && p.Param.Value == "@" {
		return true
	}
	if w, ok := p.Index.(*syntax.Word); ok && (w.Lit() == "@") {
		return true
	}
	return p.Names != 0
}

func buildWord(parts []syntax.WordPart, text string) word {
	var b wordBuilder
	for _, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.unquoted(p.Value)
		case *syntax.SglQuoted:
			if !p.Dollar {
				b.literal(p.Value)
			} else if s, ok := decodeANSIC(p.Value); ok {
				b.literal(s)
			} else {
				b.unknownPart(false)
			}
		case *syntax.DblQuoted:
			b.dquoted(p.Parts)
		case *syntax.ProcSubst:
			b.literal("/dev/fd/") // <(cmd) becomes a path such as /dev/fd/63
			b.unknownPart(false)
			b.pipe = len(parts) == 1
		case *syntax.ExtGlob, *syntax.BraceExp:
			b.mark()
			b.globbed, b.special = true, true
			b.pattern = b.pattern.appendAny()
		default: // ParamExp, CmdSubst, ArithmExp: unquoted, so split into fields
			b.unknownPart(true)
		}
	}
	prefix := ""
	if b.prefix != nil {
		prefix = *b.prefix
	}
	switch {
	case b.splits:
		return word{pattern: anyGlob, fields: anyFields, text: text, prefix: prefix}
	case b.globbed:
		return word{pattern: b.pattern, fields: someFields, text: text, prefix: prefix, pathGlob: !b.special && !b.unknown}
	case b.unknown:
		return word{pattern: b.pattern, text: text, pipe: b.pipe, prefix: prefix}
	}
	return word{value: b.exact.String(), text: text}
}

// unescapeDquote removes the backslashes that are special inside double quotes.
func unescapeDquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '$', '`', '"', '\\':
				b.WriteByte(s[i+1])
				i++
				continue
			case '\n':
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decodeANSIC decodes the body of a $'...' string. It reports false for
// escapes it does not know, so the caller treats the word as unknown.
func decodeANSIC(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch c = s[i]; c {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"', '?':
			b.WriteByte(c)
		case 'c':
			if i+1 >= len(s) {
				return "", false
			}
			i++
			b.WriteByte(s[i] & 0x1f)
		case 'x', 'u', 'U':
			max := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
			j := i + 1
			for j < len(s) && j-i-1 < max && isHexDigit(s[j]) {
				j++
			}
			if j == i+1 {
				return "", false
			}
			n, err := strconv.ParseUint(s[i+1:j], 16, 32)
			if err != nil {
				return "", false
			}
			if c == 'x' {
				b.WriteByte(byte(n))
			} else {
				if !utf8.ValidRune(rune(n)) {
					return "", false
				}
				b.WriteRune(rune(n))
			}
			i = j - 1
		default:
			if c >= '0' && c <= '7' {
				j := i
				for j < len(s) && j-i < 3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				n, _ := strconv.ParseUint(s[i:j], 8, 16)
				b.WriteByte(byte(n))
				i = j - 1
				continue
			}
			return "", false
		}
	}
	return b.String(), true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// printNode renders a node of the parsed command line back as shell text.
func printNode(n syntax.Node) string {
	var buf bytes.Buffer
	if err := syntax.NewPrinter(syntax.SingleLine(true)).Print(&buf, n); err != nil {
		return "?"
	}
	return buf.String()
}

// quoteForDisplay quotes s for a shell if it needs quoting.
func quoteForDisplay(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		if utf8.ValidString(s) {
			return s
		}
	}
	if q, err := syntax.Quote(s, syntax.LangBash); err == nil {
		return q
	}
	return strconv.Quote(s)
}

// joinWords renders a command for messages.
func joinWords(ws []word) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.text
	}
	return strings.Join(parts, " ")
}

// exactWords turns an argv into words.
func exactWords(argv []string) []word {
	ws := make([]word, len(argv))
	for i, a := range argv {
		ws[i] = exactWord(a)
	}
	return ws
}

// splitAssignment splits NAME=VALUE, as env and sudo read it. A value that is
// only partly known stays a pattern.
func splitAssignment(w word) (name string, value word, ok bool) {
	if w.exact() {
		n, v, found := strings.Cut(w.value, "=")
		if !found || !validName(n) {
			return "", word{}, false
		}
		return n, word{value: v, text: quoteForDisplay(v)}, true
	}
	if w.fields != oneField {
		return "", word{}, false
	}
	var nb strings.Builder
	for i, e := range w.pattern {
		if e.kind != globRune {
			return "", word{}, false
		}
		if e.r == '=' {
			if !validName(nb.String()) {
				return "", word{}, false
			}
			rest := append(glob(nil), w.pattern[i+1:]...)
			return nb.String(), word{pattern: rest, text: rest.String()}, true
		}
		nb.WriteRune(e.r)
	}
	return "", word{}, false
}

// validName reports whether s is a shell variable name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
