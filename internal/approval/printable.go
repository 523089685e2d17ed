package approval

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable returns s as it is safe to show a human: printable characters
// pass unchanged; control characters (C0, DEL, C1: the start of every
// terminal escape sequence), invisible and bidirectional formatting
// characters (which can reorder or hide part of a command on screen, as in
// the "Trojan Source" attacks), line and paragraph separators, and bytes
// that are not UTF-8 are written as visible escapes: \n, \t, \x1b,
// \u202e, \xff. A backslash is doubled, so an escape in the output always
// stands for an escaped character, never for text that looked like one.
func Printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// hidden reports whether r changes how surrounding text is drawn, or is not
// drawn at all: C1 controls, format characters (Cf: bidi overrides and
// isolates, zero-width joiners, the byte-order mark, soft hyphen), line and
// paragraph separators, private-use and unassigned characters, and
// whitespace other than the plain space.
func hidden(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return true
	case unicode.Is(unicode.Co, r), !unicode.IsPrint(r) && r != ' ':
		return true
	}
	return false
}

// maxShown bounds how much of one field a prompt shows; the rest is
// counted, never silently dropped.
const maxShown = 4096

// shown is Printable(s), cut at maxShown bytes with a note that says how
// much was left out. A human must not approve text they did not see, so a
// cut field says so in words.
func shown(s string) string {
	p := Printable(s)
	if len(p) <= maxShown {
		return p
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + fmt.Sprintf(" [... %d more bytes not shown: deny unless you know what the rest does]", len(p)-cut)
}
