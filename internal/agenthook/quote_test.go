package agenthook

import (
	"math/rand"
	"os/exec"
	"slices"
	"testing"
)

// TestShellQuoteRoundTrip hands quoted words to the real sh and checks that
// each arrives as exactly the original bytes.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("sh is needed to check quoting against a real shell")
	}
	words := []string{
		"", "plain", "with space", "it's", `"double"`, `back\slash`, `trailing\`, "'", "''", `'\''`,
		"$HOME", "${HOME}", "$(id)", "`id`", "a;b|c&d", "<in >out", "*", "?", "[a]", "~", "~user",
		"new\nline", "tab\there", "\r\n", "héllo → 世界", "\x01\x7f\xff", "-n", "--", "!", "#comment",
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.Intn(24))
		for j := range b {
			b[j] = byte(1 + rng.Intn(255)) // anything but NUL
		}
		words = append(words, string(b))
	}
	for _, w := range words {
		script := "printf '%s' " + ShellQuote(w)
		out, err := exec.Command(sh, "-c", script).Output()
		if err != nil {
			t.Errorf("sh -c %q: %v", script, err)
			continue
		}
		if string(out) != w {
			t.Errorf("ShellQuote(%q) = %s; sh made it %q", w, ShellQuote(w), out)
		}
	}
}

func TestSplitWords(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"'/usr/local/bin/cordon' hook claude-code || exit 2", []string{"/usr/local/bin/cordon", "hook", "claude-code"}},
		{`/opt/my\ tools/cordon hook claude-code --policy '/p/it'\''s.toml'`, []string{"/opt/my tools/cordon", "hook", "claude-code", "--policy", "/p/it's.toml"}},
		{`"/a b/cordon" hook claude-code`, []string{"/a b/cordon", "hook", "claude-code"}},
		{`cordon hook $(evil)`, []string{"cordon", "hook"}},
		{`"cordon $x" hook`, nil},
		{`'unterminated`, nil},
		{"", nil},
	} {
		if got := splitWords(c.in); !slices.Equal(got, c.want) {
			t.Errorf("splitWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
