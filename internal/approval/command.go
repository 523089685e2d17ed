package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// NewCommand returns the approver that runs the policy's approver program:
// argv[0] with the arguments argv[1:], outside the sandbox, in the user's
// home directory, with cordon's environment. It receives the request as one
// JSON object on standard input and must print one JSON object on standard
// output before the timeout (see docs/approvals.md):
//
//	in:  {"version":1,"id":"...","kind":"command","command":"git push",
//	      "argv":["git","push"],"cwd":"...","workspace":"...","session":"...",
//	      "category":"pr-merge","rule":"...","reason":"...",
//	      "scopes":["once","session","always"],"timeout_seconds":300}
//	out: {"decision":"allow","scope":"session","approver":"alice","reason":"..."}
//
// Anything else (no output, output that is not that object, unknown
// fields, a non-zero exit status) is a deny, and the error says what was
// wrong. With an empty argv the channel is unavailable.
func NewCommand(argv []string) Approver {
	return &command{argv: slices.Clone(argv)}
}

type command struct {
	argv []string
}

// commandProtocolVersion is the "version" of the JSON the approver command
// receives.
const commandProtocolVersion = 1

// commandInput is what the approver command reads.
type commandInput struct {
	Version        int      `json:"version"`
	ID             string   `json:"id"`
	Kind           string   `json:"kind"`
	Command        string   `json:"command"`
	Argv           []string `json:"argv"`
	Cwd            string   `json:"cwd"`
	Workspace      string   `json:"workspace"`
	Session        string   `json:"session"`
	Category       string   `json:"category"`
	Rule           string   `json:"rule"`
	Reason         string   `json:"reason"`
	Scopes         []string `json:"scopes"`
	TimeoutSeconds int64    `json:"timeout_seconds"`
}

// commandOutput is what the approver command must print.
type commandOutput struct {
	Decision string `json:"decision"`
	Scope    string `json:"scope"`
	Approver string `json:"approver"`
	Reason   string `json:"reason"`
}

// maxCommandOutput bounds what is read from the approver command.
const maxCommandOutput = 64 << 10

func (c *command) Ask(ctx context.Context, r Request) (Answer, error) {
	ans := Answer{Channel: ChannelCommand}
	if len(c.argv) == 0 || c.argv[0] == "" {
		return ans, &UnavailableError{Channel: ChannelCommand, Why: "no approver command is configured",
			Setup: `name an approver program in your policy: [approval] approver = ["PROGRAM", "ARGS"]`}
	}
	name := filepath.Base(c.argv[0])
	in := commandInput{
		Version: commandProtocolVersion, ID: r.ID, Kind: r.kind(), Command: r.shownCommand(), Argv: r.Argv,
		Cwd: r.Cwd, Workspace: r.Workspace, Session: r.Session, Category: r.Category, Rule: r.Rule,
		Reason: r.Reason, Scopes: r.Scopes(),
	}
	if in.Argv == nil {
		in.Argv = []string{}
	}
	if dl, ok := ctx.Deadline(); ok {
		in.TimeoutSeconds = int64(time.Until(dl).Round(time.Second) / time.Second)
	}
	input, err := json.Marshal(in)
	if err != nil {
		return ans, err
	}

	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Stdin = bytes.NewReader(append(input, '\n'))
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxCommandOutput, 4<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Not the workspace: a program started there could pick up files the
	// agent wrote (a module, a config file) and answer for it.
	if home, err := os.UserHomeDir(); err == nil {
		cmd.Dir = home
	} else {
		cmd.Dir = string(filepath.Separator)
	}
	killGroup(cmd)
	cmd.WaitDelay = 2 * time.Second

	err = cmd.Run()
	if ctx.Err() != nil {
		return ans, ctx.Err()
	}
	switch {
	case err != nil && cmd.Process == nil:
		return ans, fmt.Errorf("approver command %q could not be started (%v); fix the approver in your policy", c.argv[0], unwrapExec(err))
	case err != nil:
		return ans, fmt.Errorf("approver command %s failed (%v)%s", name, err, stderrExcerpt(stderr.String()))
	case stdout.overflow:
		return ans, fmt.Errorf("approver command %s printed more than %d bytes; it must print one JSON object", name, maxCommandOutput)
	}
	out, err := parseCommandOutput(stdout.Bytes())
	if err != nil {
		return ans, fmt.Errorf("approver command %s: %w%s", name, err, stderrExcerpt(stderr.String()))
	}
	ans.Decision, ans.Scope, ans.Reason = out.Decision, out.Scope, out.Reason
	ans.Approver = out.Approver
	if ans.Approver == "" {
		ans.Approver = name
	}
	return ans, nil
}

// parseCommandOutput reads the approver command's answer strictly: exactly
// one JSON object with known fields and a decision of allow or deny. A typo
// must not turn into an answer.
func parseCommandOutput(b []byte) (commandOutput, error) {
	var out commandOutput
	if len(bytes.TrimSpace(b)) == 0 {
		return out, errors.New(`printed nothing; it must print one JSON object such as {"decision":"allow","scope":"once"}`)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return out, fmt.Errorf("printed something that is not the expected JSON object (%v): %q", err, excerpt(b))
	}
	if dec.More() {
		return out, fmt.Errorf("printed more than one JSON value: %q", excerpt(b))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return out, fmt.Errorf("printed text after the JSON object: %q", excerpt(b))
	}
	switch out.Decision {
	case Allow, Deny:
	case "":
		return out, errors.New(`answered without a "decision"; use "allow" or "deny"`)
	default:
		return out, fmt.Errorf(`answered "decision": %q; use "allow" or "deny"`, out.Decision)
	}
	switch out.Scope {
	case "", ScopeOnce, ScopeSession, ScopeAlways:
	default:
		return out, fmt.Errorf(`answered "scope": %q; use "once", "session" or "always"`, out.Scope)
	}
	return out, nil
}

func excerpt(b []byte) string {
	s := Printable(string(bytes.TrimSpace(b)))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func stderrExcerpt(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return ": " + excerpt([]byte(s))
}

// unwrapExec drops the "fork/exec PATH:" or "exec: PATH:" wrapping, which
// the message names already.
func unwrapExec(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// limitedBuffer keeps the first max bytes written to it and notes whether
// more came. (It has no ReadFrom, so io.Copy goes through Write.)
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.overflow = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) Bytes() []byte  { return b.buf.Bytes() }
func (b *limitedBuffer) String() string { return b.buf.String() }
