package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/jsonl"
	"github.com/cordon-sandbox/cordon/internal/auditsink/text"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and check the audit trail",
		Long: `The audit trail records every policy decision, approval, process and network
connection of cordon runs, one JSON event per line, each line chained to the
one before by its hash. See docs/audit.md.`,
	}
	cmd.AddCommand(newAuditTailCmd(), newAuditVerifyCmd(), newAuditSummaryCmd())
	return cmd
}

// auditLogFlag registers --file, the log to read.
func auditLogFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "file", "", "the audit log (default $XDG_STATE_HOME/cordon/audit.jsonl)")
}

func auditLogPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return audit.DefaultFilePath()
}

// eventFilter selects events for tail and summary.
type eventFilter struct {
	session, run, decision, since string
	kinds                         []string
	sinceTime                     time.Time
}

func (f *eventFilter) register(cmd *cobra.Command, all bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.session, "session", "", "only events of this session id")
	fl.StringVar(&f.since, "since", "", "only events at or after this time: RFC 3339 (2026-11-27T09:00:00Z), a date (2026-11-27) or a duration ago (15m, 2h)")
	if all {
		fl.StringVar(&f.run, "run", "", "only events of this run id (a prefix is enough)")
		fl.StringSliceVar(&f.kinds, "kind", nil, "only events of these kinds (decision, process_exit, ...; repeat or separate with commas)")
		fl.StringVar(&f.decision, "decision", "", "only events with this decision: allow, ask or deny (decision, approval, network_connection)")
	}
}

// prepare checks the flags and resolves --since.
func (f *eventFilter) prepare(now time.Time) error {
	for _, k := range f.kinds {
		if !slices.Contains(audit.Kinds(), audit.Kind(k)) {
			return &usageError{msg: fmt.Sprintf("unknown event kind %q", k), hint: "kinds are: " + kindList()}
		}
	}
	switch f.decision {
	case "", audit.Allow, audit.Ask, audit.Deny:
	default:
		return &usageError{msg: fmt.Sprintf("--decision %q: must be allow, ask or deny", f.decision)}
	}
	if f.since == "" {
		return nil
	}
	if d, err := time.ParseDuration(f.since); err == nil && d >= 0 {
		f.sinceTime = now.Add(-d)
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, f.since); err == nil {
		f.sinceTime = t
		return nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, f.since, time.Local); err == nil {
		f.sinceTime = t
		return nil
	}
	return &usageError{msg: fmt.Sprintf("--since %q is not a time", f.since), hint: "write 2026-11-27T09:00:00Z, 2026-11-27, or a duration such as 15m or 2h"}
}

func kindList() string {
	var ks []string
	for _, k := range audit.Kinds() {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}

func (f *eventFilter) match(ev *audit.Event) bool {
	if f.session != "" && ev.Session != f.session {
		return false
	}
	if f.run != "" && !strings.HasPrefix(ev.Run, f.run) {
		return false
	}
	if len(f.kinds) > 0 && !slices.Contains(f.kinds, string(ev.Kind)) {
		return false
	}
	if !f.sinceTime.IsZero() && ev.Time.Before(f.sinceTime) {
		return false
	}
	if f.decision != "" {
		d, ok := decisionOf(ev.Payload)
		return ok && d == f.decision
	}
	return true
}

func decisionOf(p audit.Payload) (string, bool) {
	switch e := p.(type) {
	case audit.Decision:
		return e.Decision, true
	case audit.Approval:
		return e.Decision, true
	case audit.NetworkConnection:
		return e.Decision, true
	}
	return "", false
}

// notEvents counts lines that are not events, to mention once.
type notEvents struct {
	n     int
	first error
}

func (c *notEvents) add(err error) {
	if c.n == 0 {
		c.first = err
	}
	c.n++
}

func (c *notEvents) report(w io.Writer, path string) {
	if c.n > 0 {
		fmt.Fprintf(w, "cordon: warning: %d lines of %s are not events (first: %v); run `cordon audit verify`\n", c.n, path, c.first)
	}
}

func newAuditTailCmd() *cobra.Command {
	var (
		file   string
		follow bool
		asJSON bool
		lines  int
		filter eventFilter
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print audit events, one line each",
		Long: `Print the last events of the audit log (and its rotated files), one line
each: time, run id, kind, and what happened. Colours only on a terminal
(NO_COLOR turns them off). With --follow, keep printing events as cordon runs
write them, across rotations, until interrupted.`,
		Example: `  # the last 20 events
  cordon audit tail

  # watch decisions as they happen
  cordon audit tail -f --kind decision,approval

  # everything denied in the last hour, as JSON lines
  cordon audit tail -n 0 --decision deny --since 1h --json

  # one run, in full
  cordon audit tail -n 0 --run 5f0e2c7a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := filter.prepare(time.Now()); err != nil {
				return err
			}
			if lines < 0 {
				return &usageError{msg: "-n must be 0 (all) or more"}
			}
			path, err := auditLogPath(file)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			style := text.Style{Date: true}
			if f, ok := out.(*os.File); ok {
				style.Color = text.UseColor(f)
			}
			var bad notEvents
			printLine := func(raw []byte, ev *audit.Event) error {
				var err error
				if asJSON {
					_, err = fmt.Fprintf(out, "%s\n", raw)
				} else {
					_, err = fmt.Fprintln(out, text.Line(ev, style))
				}
				return err
			}
			type match struct {
				raw []byte
				ev  *audit.Event
			}
			var ring []match
			r := jsonl.NewReader(path)
			defer r.Close()
			err = r.ReadAll(func(raw []byte) error {
				ev, err := audit.ParseEvent(raw)
				if err != nil {
					bad.add(err)
					return nil
				}
				if !filter.match(ev) {
					return nil
				}
				ring = append(ring, match{raw, ev})
				if lines > 0 && len(ring) > lines {
					ring = ring[1:]
				}
				return nil
			})
			if err != nil {
				return noLogError(path, err)
			}
			for _, m := range ring {
				if err := printLine(m.raw, m.ev); err != nil {
					return err
				}
			}
			bad.report(cmd.ErrOrStderr(), path)
			if !follow {
				return nil
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return r.Follow(ctx, 200*time.Millisecond, func(raw []byte) error {
				ev, err := audit.ParseEvent(raw)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "cordon: warning: a line of %s is not an event: %v\n", path, err)
					return nil
				}
				if !filter.match(ev) {
					return nil
				}
				return printLine(raw, ev)
			})
		},
	}
	auditLogFlag(cmd, &file)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events as stored: one JSON object a line")
	cmd.Flags().IntVarP(&lines, "lines", "n", 20, "print the last N matching events; 0 for all")
	filter.register(cmd, true)
	return cmd
}

func noLogError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &usageError{
			msg:  fmt.Sprintf("no audit log at %s", path),
			hint: "cordon writes it on the first `cordon run`; if the policy sets [audit.file] path, pass that path with --file",
		}
	}
	return err
}

func newAuditVerifyCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "verify [FILE...]",
		Short: "Check the audit log's hash chain",
		Long: `Check that the audit log is exactly what cordon wrote: every line's hash
matches its content, every line names the one before it, sequence numbers run
without gaps across rotated files, and nothing was cut off the end.

Without arguments, checks the log and all its rotated files, oldest first.
With FILEs, checks those, in the order given, as one chain.

Each problem is printed with file, line, seq and what was expected. Exit
status: 0 intact (crashes that cordon recovered from are listed, but are not
problems), 1 broken (a line was edited, deleted, inserted or moved), 2
truncated (the end is missing: an incomplete last line, or fewer events than
the log's head record says were written).

The last hash printed identifies the whole chain: keep a copy elsewhere to
detect a later rewrite of the file.`,
		Example: `  # check the log and its rotated files
  cordon audit verify

  # check a copy, with the rotated file before it
  cordon audit verify audit.000000004711.jsonl audit.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files := args
			label := strings.Join(args, ", ")
			if len(files) == 0 {
				path, err := auditLogPath(file)
				if err != nil {
					return err
				}
				if files, err = jsonl.Files(path); err != nil {
					return err
				}
				if len(files) == 0 {
					return noLogError(path, fs.ErrNotExist)
				}
				label = path
				if n := len(files) - 1; n > 0 {
					label += fmt.Sprintf(" and %d rotated file%s", n, plural(n))
				}
			}
			r, err := jsonl.Verify(files)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			out := cmd.OutOrStdout()
			for _, f := range r.Findings {
				fmt.Fprintln(out, f)
			}
			fmt.Fprintf(out, "%s: %d events", label, r.Events)
			if r.Events > 0 {
				fmt.Fprintf(out, ", seq %d to %d, last hash %s", r.FirstSeq, r.LastSeq, r.LastHash)
			}
			switch r.Worst() {
			case jsonl.Broken:
				fmt.Fprintln(out, ": BROKEN")
				return &exitError{code: 1, silent: true}
			case jsonl.Truncated:
				fmt.Fprintln(out, ": TRUNCATED")
				return &exitError{code: 2, silent: true}
			}
			fmt.Fprintln(out, ": intact")
			return nil
		},
	}
	auditLogFlag(cmd, &file)
	return cmd
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// sessionSummary is one row of `cordon audit summary`.
type sessionSummary struct {
	Session       string    `json:"session"`
	First         time.Time `json:"first"`
	Last          time.Time `json:"last"`
	Runs          int       `json:"runs"`
	Commands      int       `json:"commands"`
	Denials       int       `json:"denials"`
	Approvals     int       `json:"approvals"`
	Hosts         []string  `json:"hosts"`
	BytesSent     int64     `json:"bytes_sent"`
	BytesReceived int64     `json:"bytes_received"`

	runs  map[string]bool
	hosts map[string]bool
}

func (s *sessionSummary) add(ev *audit.Event) {
	if s.First.IsZero() || ev.Time.Before(s.First) {
		s.First = ev.Time
	}
	if ev.Time.After(s.Last) {
		s.Last = ev.Time
	}
	s.runs[ev.Run] = true
	switch e := ev.Payload.(type) {
	case audit.CommandRequested:
		s.Commands++
	case audit.Decision:
		if e.Decision == audit.Deny {
			s.Denials++
		}
	case audit.Approval:
		if e.Decision == audit.Allow {
			s.Approvals++
		} else {
			s.Denials++
		}
	case audit.NetworkConnection:
		if e.Decision == audit.Deny {
			s.Denials++
			break
		}
		s.hosts[fmt.Sprintf("%s:%d", e.Host, e.Port)] = true
		s.BytesSent += e.BytesSent
		s.BytesReceived += e.BytesReceived
	case audit.AccessDenied:
		s.Denials++
	}
}

func newAuditSummaryCmd() *cobra.Command {
	var (
		file   string
		asJSON bool
		filter eventFilter
	)
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Per-session counts: commands, denials, approvals, hosts, bytes",
		Long: `Summarise the audit log (and its rotated files) per agent session: runs,
commands requested, denials (by the policy, by a human, by the proxy or by a
sandbox layer that reported it), approvals granted, distinct hosts reached
and bytes sent and received through the proxy.`,
		Example: `  # every session in the log
  cordon audit summary

  # today's sessions, for a script
  cordon audit summary --since 24h --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := filter.prepare(time.Now()); err != nil {
				return err
			}
			path, err := auditLogPath(file)
			if err != nil {
				return err
			}
			sessions := map[string]*sessionSummary{}
			var bad notEvents
			r := jsonl.NewReader(path)
			defer r.Close()
			err = r.ReadAll(func(raw []byte) error {
				ev, err := audit.ParseEvent(raw)
				if err != nil {
					bad.add(err)
					return nil
				}
				if !filter.match(ev) {
					return nil
				}
				s := sessions[ev.Session]
				if s == nil {
					s = &sessionSummary{Session: ev.Session, runs: map[string]bool{}, hosts: map[string]bool{}}
					sessions[ev.Session] = s
				}
				s.add(ev)
				return nil
			})
			if err != nil {
				return noLogError(path, err)
			}
			bad.report(cmd.ErrOrStderr(), path)
			rows := make([]*sessionSummary, 0, len(sessions))
			for _, s := range sessions {
				s.Runs = len(s.runs)
				s.Hosts = make([]string, 0, len(s.hosts))
				for h := range s.hosts {
					s.Hosts = append(s.Hosts, h)
				}
				sort.Strings(s.Hosts)
				rows = append(rows, s)
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].First.Before(rows[j].First) })
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SESSION\tFIRST\tLAST\tRUNS\tCOMMANDS\tDENIALS\tAPPROVALS\tHOSTS\tSENT\tRECEIVED")
			for _, s := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", text.Clean(s.Session),
					s.First.Local().Format("2006-01-02 15:04"), s.Last.Local().Format("2006-01-02 15:04"),
					s.Runs, s.Commands, s.Denials, s.Approvals, len(s.Hosts), s.BytesSent, s.BytesReceived)
			}
			return tw.Flush()
		},
	}
	auditLogFlag(cmd, &file)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON, with the list of hosts")
	filter.register(cmd, false)
	return cmd
}
