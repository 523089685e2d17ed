package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// drainWait bounds how long output is read after the sandbox ended. Run
// promises that nothing of the command is left, so the pipes reach end of
// file at once; the bound only keeps a broken promise from hanging the call.
const drainWait = 5 * time.Second

// execute runs argv in the sandbox and fills out. progress, when set, is
// called every ProgressEvery while the command runs.
func (s *Server) execute(ctx context.Context, argv []string, dir string, timeout time.Duration, stdin string,
	progress func(elapsed time.Duration, outputBytes int64), out *RunOutput) error {
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer stdoutR.Close()
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutW.Close()
		return err
	}
	defer stderrR.Close()
	in, feed, err := stdinFor(stdin)
	if err != nil {
		stdoutW.Close()
		stderrW.Close()
		return err
	}

	stdout, stderr := newCapture(s.opts.MaxOutput), newCapture(s.opts.MaxOutput)
	var readers sync.WaitGroup
	for _, c := range []struct {
		r *os.File
		w io.Writer
	}{{stdoutR, stdout}, {stderrR, stderr}} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			io.Copy(c.w, c.r) //nolint:errcheck // a read error ends the stream; what was read is kept
		}()
	}

	// The policy is shared by every call; each run gets a copy with its own
	// timeout, which can only be shorter than the policy's (timeoutFor).
	pol := *s.opts.Policy
	pol.Limits.Timeout.Value = timeout
	req := sandbox.Request{
		Policy:      &pol,
		Workspace:   s.opts.Workspace,
		Dir:         dir,
		Argv:        argv,
		Environ:     s.opts.Environ,
		Home:        s.opts.Home,
		PolicyFiles: s.opts.PolicyFiles,
		Stdin:       in,
		Stdout:      stdoutW,
		Stderr:      stderrW,
	}

	done := make(chan struct{})
	ticking := make(chan struct{})
	if progress == nil {
		close(ticking)
	} else {
		go func() {
			defer close(ticking)
			start := time.Now()
			t := time.NewTicker(s.opts.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					progress(time.Since(start), stdout.size()+stderr.size())
				}
			}
		}()
	}
	res, runErr := s.opts.Run(ctx, req)
	close(done)
	// No progress notification may follow the call's answer.
	<-ticking
	// Our copies of the write ends; the command's are gone with it.
	stdoutW.Close()
	stderrW.Close()
	in.Close()
	if feed != nil {
		<-feed
	}
	drained := make(chan struct{})
	go func() { readers.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainWait):
		stdoutR.Close()
		stderrR.Close()
		<-drained
		out.Notes = append(out.Notes, "output written after the command ended was not collected")
	}

	out.Stdout, out.StdoutCut = stdout.result("stdout")
	out.Stderr, out.StderrCut = stderr.result("stderr")
	if runErr != nil {
		var refused *RefusedError
		if errors.As(runErr, &refused) {
			return runErr
		}
		var denied *pipeline.DeniedError
		if errors.As(runErr, &denied) {
			return &RefusedError{NoApprover: denied.NoApprover, Reason: denied.Msg}
		}
		var ee *sandbox.ExecError
		if errors.As(runErr, &ee) {
			// The program could not be started: an answer, not a failure
			// of cordon, as a shell would give it.
			out.Ran = true
			out.ExitCode = ee.Code
			out.Stderr += s.redact.clean(ee.Msg) + "\n"
			return nil
		}
		return runErr
	}
	out.Ran = true
	out.ExitCode = res.ExitCode
	out.Signal = res.Signal
	out.TimedOut = res.TimedOut
	out.DurationMS = res.Duration.Milliseconds()
	if n := res.Network; n != nil {
		for _, h := range n.Hosts {
			if h.Denied > 0 {
				out.Refusals = append(out.Refusals, networkRefusal(h.Host, h.Port, s.redact.clean(h.Reason)))
			}
		}
	}
	if weak := res.Report.Weakened(); len(weak) > 0 {
		for _, l := range weak {
			out.Notes = append(out.Notes, s.redact.clean(fmt.Sprintf("sandbox layer %s is %s: %s", l.Name, l.Status, l.Detail)))
		}
	}
	return nil
}

// stdinFor returns the command's standard input: /dev/null, or a pipe fed
// with text (feed is closed when the feeding ends).
func stdinFor(text string) (*os.File, <-chan struct{}, error) {
	if text == "" {
		f, err := os.Open(os.DevNull)
		return f, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	feed := make(chan struct{})
	go func() {
		defer close(feed)
		// A command that does not read its input makes this fail with
		// EPIPE once it is gone; that is fine.
		io.WriteString(w, text) //nolint:errcheck
		w.Close()
	}()
	return r, feed, nil
}

// networkRefusal describes a host the proxy refused while the command ran.
func networkRefusal(host string, port int, reason string) Refusal {
	target := net.JoinHostPort(host, strconv.Itoa(port))
	if reason == "" {
		reason = "the host is not allowed by the policy"
	}
	return Refusal{Kind: RefusalNetwork, Subject: target, Host: host, Port: port, Reason: reason,
		Message: fmt.Sprintf("Network access to %s was refused by cordon's policy (%s). Ask the user to allow it in cordon's policy "+
			"([network] allow), or do without it: use an offline cache or vendored dependencies.", target, reason)}
}
