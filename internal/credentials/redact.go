package credentials

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"
)

// Redact returns s with every occurrence of a secret's value replaced by
// "[redacted:NAME]", and its base64 forms too (standard and URL alphabets,
// with or without padding), also where the value is encoded inside a longer
// base64 text such as an HTTP Basic credential "user:VALUE". Apply it to
// everything cordon prints or records that could hold a secret: audit
// events, messages to the agent, errors.
//
// Where values overlap, the longest one found at a position wins. Zero
// Secrets are ignored.
func Redact(s string, secrets []Secret) string {
	type needle struct{ text, name string }
	var needles []needle
	seen := map[string]bool{}
	add := func(text, name string) {
		if len(text) >= minSecretLen && !seen[text] {
			seen[text] = true
			needles = append(needles, needle{text, name})
		}
	}
	for _, sec := range secrets {
		if sec.value == "" {
			continue
		}
		add(sec.value, sec.Name)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			add(enc.EncodeToString([]byte(sec.value)), sec.Name)
		}
		for offset := range 3 {
			core := base64Core(sec.value, offset)
			add(core, sec.Name)
			add(strings.NewReplacer("+", "-", "/", "_").Replace(core), sec.Name)
		}
	}
	if len(needles) == 0 {
		return s
	}
	// strings.Replacer tries its pairs in order at each position: longest first.
	slices.SortStableFunc(needles, func(a, b needle) int { return cmp.Compare(len(b.text), len(a.text)) })
	pairs := make([]string, 0, 2*len(needles))
	for _, n := range needles {
		pairs = append(pairs, n.text, "[redacted:"+n.name+"]")
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// base64Core returns the characters that encode value whenever it starts
// at a byte offset ≡ offset (mod 3) of a longer base64-encoded text: the
// characters that also carry bits of the bytes before or after it, and the
// padding, are left out, since they differ from text to text.
func base64Core(value string, offset int) string {
	enc := base64.StdEncoding.EncodeToString(append(make([]byte, offset), value...))
	front := [3]int{0, 2, 3}[offset] // characters holding bits of the bytes before
	back := [3]int{0, 3, 2}[(offset+len(value))%3]
	if front+back >= len(enc) {
		return ""
	}
	return enc[front : len(enc)-back]
}
