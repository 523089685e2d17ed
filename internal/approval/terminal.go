package approval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/internal/approval/internal/state"
)

// NewTerminal returns the approver that asks on the controlling terminal
// (/dev/tty), never on the command's standard input, which an agent
// controls. Without a controlling terminal it is unavailable. Prompts of
// several cordon processes on the same terminal take turns (a lock in
// stateDir).
func NewTerminal(stateDir string) Approver {
	return &terminal{stateDir: stateDir}
}

type terminal struct {
	stateDir string
}

// ttyFile is what the prompt needs of a terminal.
type ttyFile interface {
	io.ReadWriter
	SetReadDeadline(time.Time) error
}

func (t *terminal) Ask(ctx context.Context, r Request) (Answer, error) {
	tty, id, err := openTerminal()
	if err != nil {
		return Answer{}, &UnavailableError{Channel: ChannelTerminal, Why: err.Error(),
			Setup: "run cordon from a terminal to be asked there"}
	}
	defer tty.Close()
	ans := Answer{Channel: ChannelTerminal}
	if err := state.MkdirPrivate(filepath.Join(t.stateDir, "approve")); err != nil {
		return ans, fmt.Errorf("terminal prompt: %w", err)
	}
	lockPath := filepath.Join(t.stateDir, "approve", "tty-"+id+".lock")
	lock, ok, err := state.TryLockExclusive(lockPath)
	if err == nil && !ok {
		fmt.Fprintf(tty, "\r\ncordon: another cordon is asking on this terminal; this question waits for it\r\n")
		lock, err = state.LockExclusive(ctx, lockPath)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ans, ctx.Err()
		}
		return ans, fmt.Errorf("terminal prompt: %w", err)
	}
	defer lock.Unlock()
	// Keystrokes typed before the question was shown are not an answer to it.
	flushInput(tty)
	return prompt(ctx, tty, r, state.CurrentUser())
}

// prompt shows r on tty and reads the answer.
func prompt(ctx context.Context, tty ttyFile, r Request, approver string) (Answer, error) {
	ans := Answer{Channel: ChannelTerminal}
	// The read ends when ctx does: its deadline or the caller giving up.
	stop := context.AfterFunc(ctx, func() { tty.SetReadDeadline(time.Now()) })
	defer stop()
	scopes := r.Scopes()
	if _, err := io.WriteString(tty, promptText(ctx, r, scopes)); err != nil {
		return ans, fmt.Errorf("write to the terminal: %w", err)
	}
	const tries = 3
	for range tries {
		line, err := readLine(tty)
		if err != nil {
			if ctx.Err() != nil {
				io.WriteString(tty, "\r\ncordon: no answer in time: denied\r\n")
				return ans, ctx.Err()
			}
			return ans, fmt.Errorf("read from the terminal: %w", err)
		}
		decision, scope, ok := parseTerminalAnswer(line, scopes)
		if !ok {
			fmt.Fprintf(tty, "cordon: please answer %s\r\nanswer> ", choiceKeys(scopes))
			continue
		}
		ans.Decision, ans.Scope, ans.Approver = decision, scope, approver
		if decision == Allow {
			fmt.Fprintf(tty, "cordon: allowed (%s)\r\n", scopeLabel(scope))
		} else {
			ans.Reason = "denied at the terminal"
			io.WriteString(tty, "cordon: denied\r\n")
		}
		return ans, nil
	}
	io.WriteString(tty, "cordon: no valid answer: denied\r\n")
	ans.Decision, ans.Approver, ans.Reason = Deny, approver, "no valid answer at the terminal"
	return ans, nil
}

// promptText is the question as the terminal shows it. Every field that
// came from outside is made printable.
func promptText(ctx context.Context, r Request, scopes []string) string {
	var b strings.Builder
	b.WriteString("\r\ncordon: a human's approval is needed\r\n")
	for _, f := range r.Fields() {
		fmt.Fprintf(&b, "  %-10s %s\r\n", f.Label, f.Value)
	}
	b.WriteString("Allow it?")
	for _, s := range scopes {
		fmt.Fprintf(&b, "  [%c] %s", s[0], scopeLabel(s))
	}
	b.WriteString("  [d] deny\r\n")
	if dl, ok := ctx.Deadline(); ok {
		fmt.Fprintf(&b, "No answer within %s means deny.\r\n", time.Until(dl).Round(time.Second))
	}
	b.WriteString("answer> ")
	return b.String()
}

// Field is one line of what a human is shown about a request.
type Field struct{ Label, Value string }

// Fields lists what a human is shown about r, every value made printable
// (and cut, with a note, when very long), in the order every channel shows
// it: what is asked about, the directory, the workspace, the category and
// rule, the reason, the session.
func (r Request) Fields() []Field {
	what := map[string]string{KindCommand: "command", KindNetwork: "connect to", KindCredential: "secret"}[r.kind()]
	fs := []Field{{what, shown(r.shownCommand())}}
	if r.Cwd != "" {
		fs = append(fs, Field{"directory", shown(r.Cwd)})
	}
	if r.Workspace != "" && r.Workspace != r.Cwd {
		fs = append(fs, Field{"workspace", shown(r.Workspace)})
	}
	if r.Category != "" || r.Rule != "" {
		v := shown(r.Category)
		if r.Rule != "" {
			v = strings.TrimSpace(v + " (rule " + shown(r.Rule) + ")")
		}
		fs = append(fs, Field{"category", v})
	}
	if r.Reason != "" {
		fs = append(fs, Field{"reason", shown(r.Reason)})
	}
	if r.Session != "" {
		fs = append(fs, Field{"session", shown(r.Session)})
	}
	return fs
}

// scopeLabel is how a scope is offered to a human.
func scopeLabel(scope string) string {
	switch scope {
	case ScopeOnce:
		return "once"
	case ScopeSession:
		return "this session"
	case ScopeAlways:
		return "always (a rule in your policy file)"
	}
	return scope
}

func choiceKeys(scopes []string) string {
	var keys []string
	for _, s := range scopes {
		keys = append(keys, s[:1]+" ("+s+")")
	}
	return strings.Join(append(keys, "d (deny)"), ", ")
}

// parseTerminalAnswer maps what the human typed to an answer. An empty
// line is a deny: pressing Enter by accident must not allow anything.
func parseTerminalAnswer(line string, scopes []string) (decision, scope string, ok bool) {
	word := strings.ToLower(strings.TrimSpace(line))
	switch word {
	case "", "d", "deny", "n", "no":
		return Deny, "", true
	case "o", "once", "y", "yes":
		return Allow, ScopeOnce, true
	case "s", "session", "this session":
		scope = ScopeSession
	case "a", "always":
		scope = ScopeAlways
	default:
		return "", "", false
	}
	for _, s := range scopes {
		if s == scope {
			return Allow, scope, true
		}
	}
	return "", "", false
}

// readLine reads one line, byte by byte so that nothing after the line is
// consumed, ending at '\n' or '\r' (a terminal in raw mode sends '\r').
// Overlong input is cut.
func readLine(r io.Reader) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' || b[0] == '\r' {
				return string(line), nil
			}
			if len(line) < 64 {
				line = append(line, b[0])
			}
			continue
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return string(line), nil
		}
		return "", err
	}
}
