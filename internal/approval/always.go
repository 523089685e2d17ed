package approval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/internal/approval/internal/state"
)

// Always grants are command rules in the user's own policy file, each in a
// block of its own between marker comments, appended at the end of the
// file: everything the user wrote stays as it was, byte for byte.
const (
	// grantRulePrefix starts the name of every rule cordon writes for an
	// always grant; Lookup only honours rules with such a name.
	grantRulePrefix = "approved-"
	// grantCategory is the category of those rules.
	grantCategory = "approved"
)

// grantRuleName names the rule that allows exactly argv.
func grantRuleName(argv []string) string {
	b, _ := json.Marshal(argv)
	sum := sha256.Sum256(b)
	return grantRulePrefix + hex.EncodeToString(sum[:6])
}

// ruleToken writes one argument as a rule token that matches exactly it:
// the pattern characters * ? | and \ are escaped (docs/commands.md).
func ruleToken(arg string) string {
	var b strings.Builder
	for _, r := range arg {
		if strings.ContainsRune(`*?|\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// exactArg reverses ruleToken. ok is false when the token is a pattern
// (an unescaped * ? or |), which an exact grant never is.
func exactArg(tok string) (arg string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; c {
		case '\\':
			if i+1 == len(tok) {
				return "", false
			}
			i++
			b.WriteByte(tok[i])
		case '*', '?', '|':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// policyRules is the part of a policy file Lookup reads.
type policyRules struct {
	Commands struct {
		Rule []struct {
			Name     string   `toml:"name"`
			Match    []string `toml:"match"`
			AnyArg   []string `toml:"any_arg"`
			Decision string   `toml:"decision"`
		} `toml:"rule"`
	} `toml:"commands"`
}

// alwaysRule finds, in a policy file's text, the grant rule that allows
// exactly argv.
func alwaysRule(data []byte, argv []string) (string, bool) {
	var pf policyRules
	if err := toml.Unmarshal(data, &pf); err != nil {
		return "", false
	}
	for _, rule := range pf.Commands.Rule {
		if !strings.HasPrefix(rule.Name, grantRulePrefix) || rule.Decision != Allow || len(rule.AnyArg) > 0 || len(rule.Match) != len(argv) {
			continue
		}
		if slices.EqualFunc(rule.Match, argv, func(tok, arg string) bool {
			exact, ok := exactArg(tok)
			return ok && exact == arg
		}) {
			return rule.Name, true
		}
	}
	return "", false
}

func (g *Grants) lookupAlways(argv []string) (string, bool) {
	data, err := os.ReadFile(g.policyFile)
	if err != nil {
		return "", false
	}
	return alwaysRule(data, argv)
}

// policyLockPath serialises cordon's writers of the user's policy file.
func (g *Grants) policyLockPath() string { return filepath.Join(g.grantsDir(), "policy.lock") }

func (g *Grants) rememberAlways(r Request, a Answer) error {
	path := g.policyFile
	if err := outsideWorkspace(path, r); err != nil {
		return fmt.Errorf("always grant: %w", err)
	}
	if err := state.MkdirPrivate(g.grantsDir()); err != nil {
		return fmt.Errorf("always grant: %w", err)
	}
	lock, err := state.LockExclusive(context.Background(), g.policyLockPath())
	if err != nil {
		return fmt.Errorf("always grant: %w", err)
	}
	defer lock.Unlock()

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("always grant: create the directory of your policy file: %w", err)
	}
	// Append through the same open file that was read, so that the check
	// below is about the file that is written.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("always grant: open your policy file: %w", err)
	}
	defer f.Close()
	old, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("always grant: read %s: %w", path, err)
	}
	if _, ok := alwaysRule(old, r.Argv); ok {
		return nil
	}
	var prefix []byte
	if len(bytes.TrimSpace(old)) == 0 {
		prefix = []byte("# cordon policy (docs/policy.md)\nversion = 1\n")
	} else if err := g.checkPolicy(path, old); err != nil {
		return fmt.Errorf("always grant: your policy file has errors, so nothing was added to it: %w", err)
	}
	block := grantBlock(r, a, g.now())
	suffix := append(prefix, block...)
	if len(old) > 0 && old[len(old)-1] != '\n' {
		suffix = append([]byte("\n"), suffix...)
	}
	updated := append(slices.Clip(old), suffix...)
	if err := g.checkPolicy(path, updated); err != nil {
		return fmt.Errorf("always grant: your policy file would not be valid with the grant appended, so nothing was added to it (%w); add the rule yourself:\n%s", err, block)
	}
	if name, ok := alwaysRule(updated, r.Argv); !ok || name != grantRuleName(r.Argv) {
		return fmt.Errorf("always grant: the rule appended to %s would not read back as written, so nothing was added to it", path)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(old)) {
		return fmt.Errorf("always grant: %s changed while cordon was adding to it; nothing was added, approve again", path)
	}
	if _, err := f.Write(suffix); err != nil {
		return fmt.Errorf("always grant: append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("always grant: %s: %w", path, err)
	}
	return nil
}

// grantBlock is the marked block that holds one always grant.
func grantBlock(r Request, a Answer, now time.Time) []byte {
	name := grantRuleName(r.Argv)
	who := a.Approver
	if who == "" {
		who = "someone"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n# >>> cordon approval grant %s: written by cordon; delete this block to revoke it\n", name)
	fmt.Fprintf(&b, "# allowed always by %s (%s) on %s\n", Printable(who), Printable(a.Channel), now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# command: %s\n", shown(r.shownCommand()))
	if r.Category != "" || r.Rule != "" {
		fmt.Fprintf(&b, "# asked because of: %s %s\n", Printable(r.Category), Printable(r.Rule))
	}
	b.WriteString("[[commands.rule]]\n")
	fmt.Fprintf(&b, "name = %s\n", tomlString(name))
	b.WriteString("match = [")
	for i, arg := range r.Argv {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tomlString(ruleToken(arg)))
	}
	b.WriteString("]\n")
	fmt.Fprintf(&b, "decision = %s\n", tomlString(Allow))
	fmt.Fprintf(&b, "category = %s\n", tomlString(grantCategory))
	fmt.Fprintf(&b, "reason = %s\n", tomlString(fmt.Sprintf("allowed always by %s (%s) on %s", Printable(who), Printable(a.Channel), now.UTC().Format("2006-01-02"))))
	fmt.Fprintf(&b, "# <<< cordon approval grant %s\n", name)
	return b.Bytes()
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
