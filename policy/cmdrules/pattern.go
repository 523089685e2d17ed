package cmdrules

import "errors"

// CheckPattern checks one token of the rule language (an entry of
// Rule.Match or Rule.AnyArg, or a protected branch): alternatives separated
// by '|', each a run of characters where '*' matches any run, '?' one
// character, and a backslash makes the next character literal. It reports
// an empty token, an empty alternative and a trailing lone backslash; every
// other string is a pattern. The analyser (internal/cmdpolicy) compiles
// exactly the tokens CheckPattern accepts, which its tests check.
func CheckPattern(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	nonEmpty := false // the current alternative has a character
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return errors.New("ends with a lone backslash (write \\\\ for a literal one)")
			}
			i++
			nonEmpty = true
		case '|':
			if !nonEmpty {
				return emptyAlternative()
			}
			nonEmpty = false
		default:
			nonEmpty = true
		}
	}
	if !nonEmpty {
		return emptyAlternative()
	}
	return nil
}

// emptyAlternative is a function, not a variable, so that the package
// allocates nothing at program start.
func emptyAlternative() error {
	return errors.New("has an empty alternative (two '|' in a row, or one at an end)")
}
