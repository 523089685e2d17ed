// Package text is the audit trail's human-readable sink: one line per event,
// for `cordon run --verbose` on stderr and for `cordon audit tail`. Colours are
// used only when asked (see UseColor: a terminal, and NO_COLOR unset), and
// every string that came from the agent's side is stripped of control
// characters, so an event cannot drive the user's terminal.
package text

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/term"

	"github.com/cordon-sandbox/cordon/audit"
)

// Sink writes one line per event to w.
type Sink struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

var _ audit.Sink = (*Sink)(nil)

// New returns a sink writing to w, in colour when color is set.
func New(w io.Writer, color bool) *Sink { return &Sink{w: w, color: color} }

// UseColor reports whether output to f should be coloured: f is a terminal
// and the NO_COLOR convention is not in force.
func UseColor(f *os.File) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// Name implements audit.Sink.
func (s *Sink) Name() string { return "stderr" }

// Write implements audit.Sink.
func (s *Sink) Write(ev *audit.Event) error {
	line := Line(ev, Style{Color: s.color}) + "\n"
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := io.WriteString(s.w, line)
	return err
}

// Status implements audit.Sink; writes are synchronous, so there is nothing
// to report here.
func (s *Sink) Status() (int, int, error) { return 0, 0, nil }

// Flush implements audit.Sink.
func (s *Sink) Flush(context.Context) error { return nil }

// Close implements audit.Sink; it does not close w.
func (s *Sink) Close() error { return nil }

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	dim    = "\x1b[2m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return code + s + reset
}

func (p painter) verdict(d string) string {
	switch d {
	case audit.Allow:
		return p.paint(green, d)
	case audit.Ask:
		return p.paint(yellow, d)
	case audit.Deny:
		return p.paint(red+bold, d)
	}
	return clean(d)
}

// Style chooses how Line formats.
type Style struct {
	Color bool // ANSI colours
	Date  bool // the date as well as the time of day
}

// Line formats ev as one line without a newline: local time, the first
// eight characters of the run id, the kind, and the kind's main fields.
func Line(ev *audit.Event, st Style) string {
	p := painter(st.Color)
	layout := "15:04:05.000"
	if st.Date {
		layout = "2006-01-02 15:04:05.000"
	}
	run := clean(ev.Run)
	if len(run) > 8 {
		run = run[:8]
	}
	kind := fmt.Sprintf("%-18s", clean(string(ev.Kind)))
	switch ev.Payload.(type) {
	case audit.SinkFailure:
		kind = p.paint(red, kind)
	case audit.Recovery, audit.SinkRecovered:
		kind = p.paint(yellow, kind)
	default:
		kind = p.paint(bold, kind)
	}
	return fmt.Sprintf("%s  %-8s  %s %s", p.paint(dim, ev.Time.Local().Format(layout)), run, kind, Summary(ev.Payload, st.Color))
}

// Summary formats a payload's main fields.
func Summary(pl audit.Payload, color bool) string {
	p := painter(color)
	switch e := pl.(type) {
	case audit.PolicyLoaded:
		var layers []string
		for _, l := range e.Layers {
			layers = append(layers, strings.TrimSpace(clean(l.Source)+" "+clean(l.Path)))
		}
		return fmt.Sprintf("%s in %s; layers: %s", clean(e.Mode), clean(e.Workspace), strings.Join(layers, ", "))
	case audit.Enforcement:
		var applied, other []string
		for _, l := range e.Layers {
			if l.Status == audit.LayerApplied {
				applied = append(applied, clean(l.Name))
				continue
			}
			other = append(other, fmt.Sprintf("%s %s (%s)", clean(l.Name), p.paint(yellow, clean(l.Status)), clean(l.Detail)))
		}
		s := fmt.Sprintf("%s %s; applied: %s", clean(e.Platform), clean(e.Mode), strings.Join(applied, " "))
		if len(other) > 0 {
			s += "; " + strings.Join(other, "; ")
		}
		if len(e.Accepted) > 0 {
			s += "; accepted: " + cleanJoin(e.Accepted, ", ")
		}
		return s
	case audit.CommandRequested:
		var from []string
		for _, s := range []string{e.Source, e.Agent} {
			if s != "" {
				from = append(from, clean(s))
			}
		}
		if e.Cwd != "" {
			from = append(from, "in "+clean(e.Cwd))
		}
		return fmt.Sprintf("%s  %s", Argv(e.Argv), p.paint(dim, "("+strings.Join(from, ", ")+")"))
	case audit.Decision:
		s := fmt.Sprintf("%s %s %s", p.verdict(e.Decision), clean(e.Subject), clean(e.Target))
		if e.Category != "" {
			s += " [" + clean(e.Category) + "]"
		}
		why := clean(e.Rule)
		if why == "" {
			why = clean(e.Decider)
		}
		return s + "  " + p.paint(dim, "("+why+")")
	case audit.Approval:
		s := fmt.Sprintf("%s %s", p.verdict(e.Decision), clean(e.Target))
		if e.TimedOut {
			return s + fmt.Sprintf("  no answer within %s", human(e.Latency.Std()))
		}
		s += fmt.Sprintf("  by %s via %s", clean(e.Approver), clean(e.Channel))
		if e.Scope != "" {
			s += ", " + clean(e.Scope)
		}
		return s + ", after " + human(e.Latency.Std())
	case audit.ProcessStart:
		return fmt.Sprintf("pid %d  %s", e.PID, Argv(e.Argv))
	case audit.ProcessExit:
		var s string
		switch {
		case e.Signal != "":
			s = p.paint(red, fmt.Sprintf("killed by %s (exit %d)", clean(e.Signal), e.ExitCode))
		case e.ExitCode != 0:
			s = p.paint(red, fmt.Sprintf("exit %d", e.ExitCode))
		default:
			s = "exit 0"
		}
		if e.TimedOut {
			s += " " + p.paint(red, "timed out")
		}
		return fmt.Sprintf("%s  %s  cpu %s+%s  mem %s", s, human(e.Duration.Std()), human(e.UserCPU.Std()), human(e.SystemCPU.Std()), bytesHuman(e.PeakMemoryBytes))
	case audit.NetworkConnection:
		s := fmt.Sprintf("%s %s:%d", p.verdict(e.Decision), clean(e.Host), e.Port)
		if e.Address != "" {
			s += " (" + clean(e.Address) + ")"
		}
		s += " " + clean(e.Protocol)
		if e.Decision == audit.Allow {
			s += fmt.Sprintf("  sent %s received %s in %s", bytesHuman(e.BytesSent), bytesHuman(e.BytesReceived), human(e.Duration.Std()))
		}
		if e.Error != "" {
			s += "  " + p.paint(red, clean(e.Error))
		}
		if e.Rule != "" {
			s += "  " + p.paint(dim, "("+clean(e.Rule)+")")
		}
		return s
	case audit.AccessDenied:
		s := fmt.Sprintf("%s %s %s by %s", p.paint(red, "denied"), clean(e.Operation), clean(e.Path), clean(e.Layer))
		if e.PID != 0 {
			s += fmt.Sprintf(" (pid %d)", e.PID)
		}
		if e.Detail != "" {
			s += ": " + clean(e.Detail)
		}
		return s
	case audit.RunEnd:
		outcome := clean(e.Outcome)
		if e.Outcome != "completed" {
			outcome = p.paint(red, outcome)
		}
		s := fmt.Sprintf("%s exit %d after %s", outcome, e.ExitCode, human(e.Duration.Std()))
		if e.Error != "" {
			s += ": " + clean(e.Error)
		}
		return s
	case audit.SinkFailure:
		req := ""
		if e.Required {
			req = " (required: commands will not start)"
		}
		return fmt.Sprintf("sink %s %s: %s; %d waiting, %d lost%s", clean(e.Sink), p.paint(red, "failed"), clean(e.Error), e.Pending, e.Lost, req)
	case audit.SinkRecovered:
		return fmt.Sprintf("sink %s works again after %s; %d delivered, %d lost", clean(e.Sink), human(e.Down.Std()), e.Delivered, e.Lost)
	case audit.Recovery:
		return fmt.Sprintf("closed an incomplete line of %d bytes left by a writer killed mid-write", e.TornBytes)
	}
	return fmt.Sprintf("%T", pl)
}

// Argv formats a command line for reading, quoting arguments that need it.
func Argv(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = quoteArg(a)
	}
	return strings.Join(parts, " ")
}

func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	plain := true
	for _, r := range a {
		if !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '=' || r == ',' || r == '+' || r == '@' || r == '%' ||
			unicode.IsLetter(r) || unicode.IsDigit(r)) {
			plain = false
			break
		}
	}
	if plain {
		return a
	}
	if strings.ContainsFunc(a, isControl) {
		return strconv.QuoteToASCII(a) // shows control characters as escapes
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || r == '\ufeff' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// Clean makes a string safe to print on a terminal: control characters
// (including bidirectional overrides) are shown as escapes.
func Clean(s string) string { return clean(s) }

func clean(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}

func cleanJoin(ss []string, sep string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s)
	}
	return strings.Join(out, sep)
}

func human(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return d.Round(time.Second).String()
}

func bytesHuman(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + "KiB"
	case n < 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + "MiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + "GiB"
}
