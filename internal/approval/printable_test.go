package approval

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "git push origin main", "git push origin main"},
		{"unicode letters pass", "echo héllo 日本", "echo héllo 日本"},
		{"escape sequence", "ls\x1b[2J\x1b]0;owned\x07", `ls\x1b[2J\x1b]0;owned\x07`},
		{"newline and carriage return", "a\nb\rc\td", `a\nb\rc\td`},
		{"backslash doubled", `a\x1b`, `a\\x1b`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"bidi override", "rm -rf \u202e/ emoh\u202c", `rm -rf \u202e/ emoh\u202c`},
		{"bidi isolate", "x\u2066y\u2069", `x\u2066y\u2069`},
		{"zero width joiner", "gi\u200dt", `gi\u200dt`},
		{"byte order mark", "\ufeffgit", `\ufeffgit`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"no-break space", "a\u00a0b", `a\u00a0b`},
		{"invalid utf-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"NUL", "a\x00b", `a\x00b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Printable(tt.in); got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"git status", "\x1b[31mred", "\u202eabc", "\xff\xfe", "a\\b", "日本\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Printable(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Printable(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) || (!unicode.IsPrint(r) && r != ' ') {
				t.Fatalf("Printable(%q) = %q keeps %U", s, out, r)
			}
		}
		if !strings.ContainsAny(s, "\\") && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || hidden(r) }) && out != s {
			t.Fatalf("Printable changed printable text %q to %q", s, out)
		}
	})
}

func TestShownCutsWithANote(t *testing.T) {
	long := strings.Repeat("é", maxShown) // 2 bytes each
	got := shown(long)
	if !strings.Contains(got, "more bytes not shown") {
		t.Fatalf("a long field was cut without saying so: ...%q", got[len(got)-80:])
	}
	if !utf8.ValidString(got) {
		t.Fatal("the cut split a character")
	}
	if shown("short") != "short" {
		t.Fatal("a short field was changed")
	}
}
