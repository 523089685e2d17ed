package cmdrules

import (
	"fmt"
	"strings"
)

// Decision is what happens to a command: it runs, a human is asked, or it is
// refused. Decisions are ordered from loosest to strictest, so the stricter of
// two decisions is max(a, b). The zero value means "not set".
type Decision uint8

const (
	// Allow runs the command (inside the sandbox) without asking anyone.
	Allow Decision = iota + 1
	// Ask runs the command only after a human approved it.
	Ask
	// Deny refuses the command.
	Deny
)

var decisionNames = [...]string{Allow: "allow", Ask: "ask", Deny: "deny"}

// String returns "allow", "ask", "deny", or "unset" for the zero value.
func (d Decision) String() string {
	if d >= Allow && d <= Deny {
		return decisionNames[d]
	}
	if d == 0 {
		return "unset"
	}
	return fmt.Sprintf("Decision(%d)", uint8(d))
}

// Valid reports whether d is one of Allow, Ask, Deny.
func (d Decision) Valid() bool { return d >= Allow && d <= Deny }

// ParseDecision parses "allow", "ask" or "deny" (case-insensitive).
func ParseDecision(s string) (Decision, error) {
	for d := Allow; d <= Deny; d++ {
		if strings.EqualFold(s, decisionNames[d]) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown decision %q: use allow, ask or deny", s)
}

// MarshalText encodes d as "allow", "ask" or "deny" (for TOML and JSON).
func (d Decision) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("cannot encode decision %v: use allow, ask or deny", d)
	}
	return []byte(decisionNames[d]), nil
}

// UnmarshalText decodes "allow", "ask" or "deny".
func (d *Decision) UnmarshalText(text []byte) error {
	v, err := ParseDecision(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
