package cmdpolicy

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// glob is a pattern over one argument: literal runes, '?' (exactly one rune)
// and '*' (any run of runes, '/' included, possibly empty). The same type
// describes two things: the patterns written in rules, and what cordon knows
// about a shell word whose value is only partly known before it runs
// ("$HOME/.ssh/id_rsa" is the glob "*/.ssh/id_rsa").
type glob []globElem

type globElem struct {
	kind globKind
	r    rune // for globRune
}

type globKind uint8

const (
	globRune globKind = iota
	globOne
	globAny
	// The shell's pathname expansion (pathnameGlob): one rune or any run of
	// runes within one path component, and "the component does not start
	// with '.'".
	globSegOne
	globSegAny
	globNotDot
)

// invalidByteBase maps each byte of invalid UTF-8 to its own value outside the
// Unicode range, so that two different invalid bytes never compare equal.
const invalidByteBase = utf8.MaxRune + 1

// runesOf decodes s like a range loop does, except that invalid bytes keep
// their identity.
func runesOf(s string) []rune {
	return runesInto(make([]rune, 0, len(s)), s)
}

// runesInto appends the runes of s to out, as runesOf decodes them.
func runesInto(out []rune, s string) []rune {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = invalidByteBase + rune(s[i])
		}
		out = append(out, r)
		i += size
	}
	return out
}

// literalGlob returns the glob that matches exactly s.
func literalGlob(s string) glob {
	rs := runesOf(s)
	g := make(glob, len(rs))
	for i, r := range rs {
		g[i] = globElem{kind: globRune, r: r}
	}
	return g
}

var anyGlob = glob{{kind: globAny}}

// parseGlob compiles one alternative of a rule pattern: '*' and '?' are
// wildcards and a backslash makes the next character literal.
func parseGlob(s string) (glob, error) {
	var g glob
	rs := runesOf(s)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '*':
			g = g.appendAny()
		case '?':
			g = append(g, globElem{kind: globOne})
		case '\\':
			if i+1 == len(rs) {
				return nil, errors.New("ends with a lone backslash (write \\\\ for a literal one)")
			}
			i++
			g = append(g, globElem{kind: globRune, r: rs[i]})
		default:
			g = append(g, globElem{kind: globRune, r: r})
		}
	}
	return g, nil
}

// appendAny appends '*' unless g already ends with one (runs of stars mean
// the same as one star and only cost time).
func (g glob) appendAny() glob {
	if len(g) > 0 && g[len(g)-1].kind == globAny {
		return g
	}
	return append(g, globElem{kind: globAny})
}

// isAny reports whether g matches every string.
func (g glob) isAny() bool { return len(g) == 1 && g[0].kind == globAny }

// String renders g in rule syntax.
func (g glob) String() string {
	var b strings.Builder
	for _, e := range g {
		switch e.kind {
		case globAny, globSegAny:
			b.WriteByte('*')
		case globOne, globSegOne:
			b.WriteByte('?')
		case globNotDot:
		default:
			r := e.r
			if r >= invalidByteBase {
				b.WriteByte(byte(r - invalidByteBase))
				continue
			}
			if strings.ContainsRune(`*?\|`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// match reports whether g matches all of s.
func (g glob) match(s string) bool {
	// Most arguments are short: decode them on the stack.
	var buf [64]rune
	rs := runesInto(buf[:0], s)
	// Classic wildcard matching: remember the last star and retry from there.
	gi, si := 0, 0
	starG, starS := -1, 0
	for si < len(rs) {
		if gi < len(g) {
			switch e := g[gi]; e.kind {
			case globAny:
				starG, starS = gi, si
				gi++
				continue
			case globOne:
				gi++
				si++
				continue
			default:
				if e.r == rs[si] {
					gi++
					si++
					continue
				}
			}
		}
		if starG < 0 {
			return false
		}
		starS++
		gi, si = starG+1, starS
	}
	for gi < len(g) && g[gi].kind == globAny {
		gi++
	}
	return gi == len(g)
}

// maxIntersectCells bounds the work intersects does; beyond it the answer is
// "they may intersect", which is the safe side for every caller.
const maxIntersectCells = 1 << 20

// intersects reports whether some string matches both a and b.
//
// If a string w matches both, so does w with every rune removed that both
// patterns matched with a star at once. So it is enough to consume each rune
// with at most one star, which is what the table below does.
func intersects(a, b glob) bool {
	if (len(a)+1)*(len(b)+1) > maxIntersectCells {
		return true
	}
	const (
		unknown = iota
		yes
		no
	)
	memo := make([]uint8, (len(a)+1)*(len(b)+1))
	var f func(i, j int) bool
	f = func(i, j int) bool {
		cell := &memo[i*(len(b)+1)+j]
		if *cell != unknown {
			return *cell == yes
		}
		ok := false
		switch {
		case i == len(a) && j == len(b):
			ok = true
		case i < len(a) && a[i].kind == globAny:
			ok = f(i+1, j) || (j < len(b) && f(i, j+1))
		case j < len(b) && b[j].kind == globAny:
			ok = f(i, j+1) || (i < len(a) && f(i+1, j))
		case i < len(a) && j < len(b):
			ea, eb := a[i], b[j]
			if ea.kind == globOne || eb.kind == globOne || ea.r == eb.r {
				ok = f(i+1, j+1)
			}
		}
		if ok {
			*cell = yes
		} else {
			*cell = no
		}
		return ok
	}
	return f(0, 0)
}

// pattern is one token of a rule: alternatives separated by '|', each a glob.
type pattern struct {
	alts []glob
	src  string
}

// parsePattern compiles a rule token such as "install|i|add" or "*.ssh/id_*".
func parsePattern(s string) (pattern, error) {
	if s == "" {
		return pattern{}, errors.New("is empty")
	}
	p := pattern{src: s}
	var cur strings.Builder
	flush := func() error {
		alt := cur.String()
		cur.Reset()
		if alt == "" {
			return errors.New("has an empty alternative (two '|' in a row, or one at an end)")
		}
		g, err := parseGlob(alt)
		if err != nil {
			return err
		}
		p.alts = append(p.alts, g)
		return nil
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			cur.WriteByte('\\')
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case '|':
			if err := flush(); err != nil {
				return pattern{}, err
			}
		default:
			cur.WriteByte(s[i])
		}
	}
	if err := flush(); err != nil {
		return pattern{}, err
	}
	return p, nil
}

func mustPattern(s string) pattern {
	p, err := parsePattern(s)
	if err != nil {
		panic("cmdpolicy: bad built-in pattern " + s + ": " + err.Error())
	}
	return p
}

func (p pattern) matchString(s string) bool {
	for _, g := range p.alts {
		if g.match(s) {
			return true
		}
	}
	return false
}

func (p pattern) isAny() bool {
	for _, g := range p.alts {
		if g.isAny() {
			return true
		}
	}
	return false
}

// matchWord judges one argument that becomes exactly one field.
func (p pattern) matchWord(w word) verdict {
	if w.pattern == nil {
		if p.matchString(w.value) {
			return yes
		}
		return no
	}
	if p.isAny() {
		return yes
	}
	for _, g := range p.alts {
		if intersects(g, w.pattern) {
			return maybe
		}
	}
	return no
}

// couldMatch reports whether some value of w matches p.
func (p pattern) couldMatch(w word) bool {
	if w.pattern == nil {
		return p.matchString(w.value)
	}
	for _, g := range p.alts {
		if intersects(g, w.pattern) {
			return true
		}
	}
	return false
}
