package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/apply/linuxinit"
	"github.com/cordon-sandbox/cordon/internal/fswatch"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/policy/cmdrules"
)

// maxIdle bounds the warm sandboxes a session keeps between commands.
const maxIdle = 2

// killGrace is how long a warm sandbox's init has to end a command it was
// told to kill before the whole sandbox is killed.
const killGrace = 5 * time.Second

type session struct {
	mu     sync.Mutex
	idle   []*warm
	closed bool
	// files answers the planner from memory while nothing it read has
	// changed (internal/fswatch): most of a warm command's plan.
	filesOnce sync.Once
	files     *fswatch.Cache
	// last is the boundary planned last, used again while what it was
	// made from is the same.
	last *plannedBoundary
}

// plannedBoundary is a boundary, its key, and what it was made from: the
// plan's input less the command's part, and the Recording of every lookup
// the planner made.
type plannedBoundary struct {
	input    string
	files    *fswatch.Recording
	boundary *linuxplan.Boundary
	key      string
}

// plan makes the plan of in and its boundary key. The boundary is made
// again only when its input differs from the last one's or when the
// filesystem the last was made from has changed (fswatch.Recording); the
// command's part is made every time.
func (s *session) plan(in linuxplan.Input, req *Request) (*linuxplan.Plan, string, error) {
	input, err := boundaryInput(in, req)
	if err != nil {
		return nil, "", err
	}
	files := s.watchedFiles()
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if files != nil && last != nil && last.input == input && last.files.Unchanged() {
		plan, _, err := last.boundary.Command(in.Argv, in.Env, in.Dir)
		return plan, last.key, err
	}
	var rec *fswatch.Recording
	if files != nil {
		rec = files.Record()
		in.FS = rec
	}
	bd, err := linuxplan.MakeBoundary(in)
	if err != nil {
		return nil, "", err
	}
	plan, _, err := bd.Command(in.Argv, in.Env, in.Dir)
	if err != nil {
		return nil, "", err
	}
	key, err := boundaryKey(plan, req)
	if err != nil {
		return nil, "", err
	}
	if rec != nil {
		s.mu.Lock()
		s.last = &plannedBoundary{input: input, files: rec, boundary: bd, key: key}
		s.mu.Unlock()
	}
	return plan, key, nil
}

// boundaryInput is what a boundary is made from, as text: the plan's
// input without the command's part, and what boundaryKey adds. Every
// field that reaches it is marshalled (TestBoundaryInputHidesNothing).
func boundaryInput(in linuxplan.Input, req *Request) (string, error) {
	in.Argv, in.Env, in.Dir, in.FS = nil, nil, "", nil
	if in.Policy != nil {
		// Command rules judge a command before it is planned; no plan
		// reads them.
		p := *in.Policy
		p.Commands = cmdrules.Config{}
		in.Policy = &p
	}
	data, err := json.Marshal(struct {
		Input linuxplan.Input
		Asker bool
	}{in, req.NetworkAsker != nil})
	return string(data), err
}

// watchedFiles returns the session's filesystem cache, synced so that it
// sees every change made before the call, or nil when there is none (no
// inotify instance left: the planner then reads the filesystem).
func (s *session) watchedFiles() *fswatch.Cache {
	s.filesOnce.Do(func() {
		if c, err := fswatch.New(); err == nil {
			s.files = c
		}
	})
	if s.files != nil {
		s.files.Sync()
	}
	return s.files
}

func newSession() *session { return &session{} }

// warm is one warm sandbox: its init, what it was prepared with, and what
// the supervisor knows of the commands it ran.
type warm struct {
	key     string
	l       *launched
	prep    *prepared
	msgs    <-chan linuxinit.Message
	waited  chan error
	gitDirs map[string]bool
	dead    bool
}

func (s *session) run(ctx context.Context, req Request) (*Result, error) {
	h := probeHost()
	if !warmable(req, h) {
		return runOn(ctx, req, req.ForceDegraded, h)
	}
	begin := time.Now()
	in, err := planInput(req, "", "")
	if err != nil {
		return nil, err
	}
	plan, key, err := s.plan(in, &req)
	if err != nil {
		return nil, err
	}
	phases := []Phase{{"planned", time.Since(begin)}}
	w := s.take(key)
	if w == nil {
		if w, err = startWarm(req, key, h); err != nil {
			var le *LayerError
			if errors.As(err, &le) && le.Layer == "namespaces" {
				// The kernel refused; a cold run decides again with
				// that fact what is accepted.
				h.userNS = le.Err.Error()
				return runOn(ctx, req, req.ForceDegraded, h)
			}
			return nil, err
		}
		phases = append(phases, Phase{"sandbox built", time.Since(begin)})
	} else {
		phases = append(phases, Phase{"warm sandbox", time.Since(begin)})
	}
	res, err := w.command(ctx, &req, plan, begin)
	if res != nil {
		res.Phases = append(phases, res.Phases...)
	}
	s.give(w)
	return res, err
}

// warmable says whether req can run in a warm sandbox; the others run
// cold (see Session).
func warmable(req Request, h hostFacts) bool {
	if req.Policy.Mode.Value == policy.ModeFullAccess || req.ForceDegraded != "" || len(req.Inject) > 0 {
		return false
	}
	// Warm sandboxes are the full mode's; whatever else the host leaves
	// (the weaker mode, or a refusal) is decided by the cold run.
	mode, err := chooseMode(req, "", h)
	return err == nil && mode == ""
}

// boundaryKey names what a sandbox is built from: the plan without the
// command's own part (argv, environment, working directory, rlimits), the
// network policy the proxy enforces, the limits its cgroup holds, and
// whether anyone can be asked.
func boundaryKey(plan *linuxplan.Plan, req *Request) (string, error) {
	b := *plan
	b.Argv, b.Env, b.Dir, b.Rlimits = nil, nil, "", nil
	limits := req.Policy.Limits
	limits.Timeout.Value = 0 // the supervisor's, per command
	data, err := json.Marshal(struct {
		Plan    linuxplan.Plan
		Network any
		Limits  policy.Limits
		Asker   bool
	}{b, req.Policy.Network.Value, limits, req.NetworkAsker != nil})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// take returns an idle sandbox built for key, or nil.
func (s *session) take(key string) *warm {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.idle {
		if w.key == key {
			s.idle = append(s.idle[:i], s.idle[i+1:]...)
			return w
		}
	}
	return nil
}

// give takes back a sandbox after a command: kept if it can serve another.
func (s *session) give(w *warm) {
	s.mu.Lock()
	if w.dead || s.closed {
		s.mu.Unlock()
		w.close()
		return
	}
	var retired *warm
	if len(s.idle) >= maxIdle {
		retired, s.idle = s.idle[0], s.idle[1:]
	}
	s.idle = append(s.idle, w)
	s.mu.Unlock()
	if retired != nil {
		retired.close()
	}
}

func (s *session) close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	for _, w := range idle {
		w.close()
	}
	if files := s.watchedFiles(); files != nil {
		files.Close()
	}
	return nil
}

// startWarm builds a warm sandbox for req: the init applies the plan and
// waits for commands.
func startWarm(req Request, key string, h hostFacts) (*warm, error) {
	l := launchInit(req, "", true)
	prep, err := prepare(req, "", h, forRun)
	if startErr := l.wait(); startErr != nil {
		if prep != nil {
			prep.release()
		}
		var cerr *cloneError
		if errors.As(startErr, &cerr) {
			return nil, &LayerError{Layer: "namespaces", Err: cerr.err, Fix: userNSFix}
		}
		return nil, startErr
	}
	if err != nil {
		l.abort()
		return nil, err
	}
	prep.plan.Session = true
	prep.begin = time.Now()
	if err := prep.handshake(&req, l, false); err != nil {
		l.close()
		prep.release()
		return nil, err
	}
	if l.bridge != nil {
		go prep.serveBridge(l.bridge)
	}
	w := &warm{key: key, l: l, prep: prep, msgs: l.messages(), waited: make(chan error, 1), gitDirs: map[string]bool{}}
	go func() { w.waited <- l.cmd.Wait() }()
	return w, nil
}

// command runs one command in the sandbox and waits until it, and
// everything it started, is gone.
func (w *warm) command(ctx context.Context, req *Request, plan *linuxplan.Plan, begin time.Time) (*Result, error) {
	prep := w.prep
	prep.current.Store(req)
	prep.begin = begin
	var accepted []string
	for _, it := range req.Policy.AllowDegraded {
		accepted = append(accepted, it.Value)
	}
	req.emit(enforcementEvent(prep.report, accepted))
	st := &commandState{req: req, prep: prep, plan: plan, res: &Result{Report: prep.report, Started: time.Now()}, gitDirs: w.gitDirs}
	res := st.res
	if err := w.send(linuxinit.Packet{Type: linuxinit.PacketCommand, Argv: plan.Argv, Env: plan.Env, Dir: plan.Dir, Rlimits: plan.Rlimits},
		req.Stdin, req.Stdout, req.Stderr); err != nil {
		w.dead = true
		return nil, err
	}
	var timeout <-chan time.Time
	if d := req.Policy.Limits.Timeout.Value; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	var grace <-chan time.Time
	kill := func() {
		if grace == nil {
			w.send(linuxinit.Packet{Type: linuxinit.PacketKill}) //nolint:errcheck // the grace timer covers a lost packet
			grace = time.After(killGrace)
		}
	}
	for !st.exited && st.setupErr == nil {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				w.dead = true
				err := <-w.waited
				res.Duration = time.Since(res.Started)
				return st.finish(fmt.Errorf("the warm sandbox's init ended: %v", err))
			}
			st.handle(m)
			if m.Type == linuxinit.MsgError || m.Dirty != "" {
				w.dead = true // a sandbox that failed or is not clean serves no more
			}
		case <-timeout:
			res.TimedOut = true
			kill()
			timeout = nil
		case <-ctx.Done():
			st.cancelled = true
			kill()
			ctx = context.Background()
		case <-grace:
			w.dead = true
			w.l.cmd.Process.Kill()
			err := <-w.waited
			res.Duration = time.Since(res.Started)
			return st.finish(fmt.Errorf("the command did not end when told to, so its sandbox was killed: %v", err))
		}
	}
	res.Duration = time.Since(res.Started)
	if prep.proxy != nil {
		sum := prep.proxy.TakeSummary()
		res.Network = &sum
	}
	// The init reports the exit only once nothing of the command is left
	// in the sandbox: the repositories it made can be checked now.
	st.disarm()
	return st.finish(errors.New("the command ended without an exit status"))
}

// send writes one packet to the init, with files attached (nil ones are
// /dev/null).
func (w *warm) send(p linuxinit.Packet, files ...*os.File) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	var rights []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			if f == nil {
				null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
				if err != nil {
					return err
				}
				defer null.Close()
				f = null
			}
			fds[i] = int(f.Fd())
		}
		rights = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(w.l.session.Fd()), data, rights, nil, 0); err != nil {
		return fmt.Errorf("hand the command to the warm sandbox: %w", err)
	}
	return nil
}

// close ends the sandbox: the init, told by the closed socket, kills what
// is left and exits; then what was prepared for it goes.
func (w *warm) close() {
	w.l.session.Close()
	select {
	case <-w.waited:
	case <-time.After(killGrace):
		w.l.cmd.Process.Kill()
		<-w.waited
	}
	for range w.msgs {
	}
	w.l.close()
	if w.prep.proxy != nil {
		w.prep.proxy.Close()
	}
	w.prep.release()
}

var _ netproxy.Asker = (*prepared)(nil)
