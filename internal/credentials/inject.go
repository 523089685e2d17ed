package credentials

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// NewInjection makes what a run needs to keep s's secret outside the
// sandbox: the proxy's Injection (with a fresh placeholder and the secret)
// and the command's variable, "ENV=PLACEHOLDER". s must have inject.
func NewInjection(s Scope, sec Secret) (netpolicy.Injection, string, error) {
	if s.Inject == nil {
		return netpolicy.Injection{}, "", fmt.Errorf("credential %q: has no inject table", s.Name)
	}
	ph, err := Placeholder(sec)
	if err != nil {
		return netpolicy.Injection{}, "", fmt.Errorf("credential %q: %w", s.Name, err)
	}
	inj := s.Inject.Injection()
	inj.Name, inj.Placeholder, inj.Secret = s.Name, ph, sec.value
	return inj, s.Env + "=" + ph, nil
}

const placeholderAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Placeholder returns a fresh random stand-in for sec's value, of the same
// length, keeping the value's kind prefix (ghp_, github_pat_, glpat-,
// sk-ant-, npm_, xoxb-, ...) so that tools checking a token's shape accept
// it. The rest is drawn from crypto/rand. It reveals the value's length and
// prefix, nothing else.
func Placeholder(sec Secret) (string, error) {
	v := sec.value
	if len(v) < minSecretLen {
		return "", errors.New("the secret is too short for a placeholder")
	}
	prefix := tokenPrefix(v)
	if len(v)-len(prefix) < minSecretLen {
		prefix = ""
	}
	n := len(v) - len(prefix)
	for range 4 {
		b := make([]byte, 0, len(v))
		b = append(b, prefix...)
		var r [1]byte
		for len(b) < len(v) {
			if _, err := rand.Read(r[:]); err != nil {
				return "", fmt.Errorf("drawing a placeholder: %w", err)
			}
			// 248 = 4·62: reject the rest, so every character is equally likely.
			if r[0] < 248 {
				b = append(b, placeholderAlphabet[int(r[0])%len(placeholderAlphabet)])
			}
		}
		if ph := string(b); ph != v && n > 0 {
			return ph, nil
		}
	}
	return "", errors.New("could not draw a placeholder that differs from the secret")
}

// tokenPrefix returns the leading kind marker of a token: up to three
// segments, each a letter and then up to nine letters or digits, each
// ended by '_' or '-', and at most half the token.
func tokenPrefix(v string) string {
	i := 0
	for seg := 0; seg < 3; seg++ {
		j := i
		if j >= len(v) || !isLetter(v[j]) {
			break
		}
		j++
		for j < len(v) && j-i < 10 && (isLetter(v[j]) || v[j] >= '0' && v[j] <= '9') {
			j++
		}
		if j >= len(v) || v[j] != '_' && v[j] != '-' {
			break
		}
		i = j + 1
	}
	if i > len(v)/2 {
		return ""
	}
	return v[:i]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
