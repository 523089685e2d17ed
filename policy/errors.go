package policy

import (
	"fmt"
	"time"
)

// FileError is a problem in a policy file, located by file, line and key.
type FileError struct {
	File string
	Line int
	Key  string
	Msg  string
	// Fix says what to do about it.
	Fix string
}

func (e *FileError) Error() string {
	loc := e.File
	if loc == "" {
		loc = "policy"
	}
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Hint says what the user can do about the error.
func (e *FileError) Hint() string { return e.Fix }

func (e *FileError) withHint(h string) *FileError {
	e.Fix = h
	return e
}

// Error is a problem with the merged policy or the options it was loaded with.
type Error struct {
	Msg string
	Fix string
}

func (e *Error) Error() string { return e.Msg }

// Hint says what the user can do about the error.
func (e *Error) Hint() string { return e.Fix }

func parseDuration(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		if n, isInt := v.(int64); isInt && n == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf(`want a duration such as "90s", "10m" or "1h30m", got %v`, v)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf(`bad duration %q: want a duration such as "90s", "10m" or "1h30m"`, s)
	}
	return d, nil
}
