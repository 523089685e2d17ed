package agenthook

import "strings"

// ShellQuote returns s as one word for a POSIX shell (sh, bash, zsh): in
// single quotes, with each single quote written as '\”. Nothing inside
// single quotes is special to the shell, so the word is s exactly. A NUL
// byte cannot be passed to a program at all; callers refuse such input
// first.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// splitWords splits a simple shell command line into words, understanding
// single quotes, double quotes and backslashes, and stopping at the first
// unquoted operator (; & | < > or a newline). It recognises the commands
// cordon writes itself; anything it cannot read ends the words early.
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case strings.IndexByte(";&|<>\n()`$", c) >= 0:
			flush()
			return words
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return words
			}
			cur.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte(`"\$`+"`", s[j+1]) >= 0 {
					j++
				} else if s[j] == '$' || s[j] == '`' {
					return words
				}
				cur.WriteByte(s[j])
			}
			if j >= len(s) {
				return words
			}
			inWord = true
			i = j
		case c == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
				inWord = true
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words
}
