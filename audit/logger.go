package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Sink receives events. The sinks cordon ships live in internal/auditsink;
// they are safe for concurrent use, and none keeps ev after Write returns.
type Sink interface {
	// Name names the sink in messages and events: "file", "stderr", "otlp".
	Name() string
	// Write hands one event to the sink. An error means the sink did not take
	// it: the Logger holds the event and offers it again later. The file sink
	// sets ev.Seq, ev.Prev and ev.Hash, and only when it succeeds.
	Write(ev *Event) error
	// Status reports, without blocking, how delivery goes for a sink that
	// delivers in the background: err is the last failure (nil once delivery
	// works again), pending the events it took but has not delivered, lost
	// the events it dropped since it was opened.
	Status() (pending, lost int, err error)
	// Flush delivers everything written so far (to disk, to the collector),
	// or says why it could not.
	Flush(ctx context.Context) error
	// Close flushes and releases the sink.
	Close() error
}

// Output is a sink as the Logger uses it.
type Output struct {
	Sink Sink
	// Required: Healthy fails while this sink is down, so the caller does not
	// start commands that would go unrecorded.
	Required bool
}

// Unavailable returns a sink that could not be opened: every write fails with
// err, so the failure is reported like any other sink failure and a required
// Unavailable sink makes Healthy fail.
func Unavailable(name string, err error) Sink { return unavailable{name, err} }

type unavailable struct {
	name string
	err  error
}

func (u unavailable) Name() string                { return u.name }
func (u unavailable) Write(*Event) error          { return u.err }
func (u unavailable) Status() (int, int, error)   { return 0, 0, u.err }
func (u unavailable) Flush(context.Context) error { return u.err }
func (u unavailable) Close() error                { return nil }

// holdLimit is how many events the Logger keeps for a sink that is down.
const holdLimit = 1000

// flushTimeout bounds Healthy's and Close's wait for a sink.
const flushTimeout = 15 * time.Second

// Logger stamps events with the common fields and hands them to every sink,
// first to last (so the file sink, listed first, assigns the chain fields that
// the others then carry). It never drops an event silently: a sink that fails
// is reported on the warnings writer and by a sink_failure event to the other
// sinks, and the events it missed are held and delivered when it works again.
// A Logger is safe for concurrent use.
type Logger struct {
	ids  IDs
	warn io.Writer
	now  func() time.Time

	mu     sync.Mutex
	outs   []*output
	closed bool
}

type output struct {
	Output
	held      []*Event // events the sink did not take, oldest first
	lost      int      // events dropped from held because it was full
	drained   int      // held events delivered since the sink went down
	writeErr  error    // last Write failure, nil after a successful Write
	written   int      // events the sink took
	down      bool
	downSince time.Time
	downErr   error
}

// New returns a Logger writing to outs, in order; put the file sink first.
// Sink failures are reported on warn (os.Stderr when nil). A sink that is
// already failing (see Unavailable) is reported at once.
func New(ids IDs, warn io.Writer, outs ...Output) *Logger {
	if warn == nil {
		warn = os.Stderr
	}
	l := &Logger{ids: ids, warn: warn, now: time.Now}
	for _, o := range outs {
		l.outs = append(l.outs, &output{Output: o})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.outs {
		if _, _, err := o.Sink.Status(); err != nil {
			o.writeErr = err
		}
	}
	l.reportChanges()
	return l
}

// Emit stamps p with the common fields and the current time and writes it to
// every sink. It does not wait for the network, and waits for the file lock
// for at most a couple of seconds.
func (l *Logger) Emit(p Payload) {
	if p == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		fmt.Fprintf(l.warn, "cordon: audit: %s event emitted after the audit log was closed; it is not recorded\n", p.Kind())
		return
	}
	l.deliver(l.stamp(p), nil)
	l.reportChanges()
}

func (l *Logger) stamp(p Payload) *Event {
	return &Event{
		Schema:  SchemaVersion,
		Time:    l.now().UTC(),
		Session: l.ids.Session,
		Run:     l.ids.Run,
		Kind:    p.Kind(),
		Payload: p,
	}
}

// deliver offers ev to every output except skip.
func (l *Logger) deliver(ev *Event, skip *output) {
	for _, o := range l.outs {
		if o != skip {
			o.offer(ev)
		}
	}
}

// offer writes ev, after anything held before it, or holds it.
func (o *output) offer(ev *Event) {
	if len(o.held) > 0 && !o.drain() {
		o.hold(ev)
		return
	}
	if err := o.Sink.Write(ev); err != nil {
		o.writeErr = err
		o.hold(ev)
		return
	}
	o.writeErr = nil
	o.written++
}

// drain writes the held events in order and reports whether all went.
func (o *output) drain() bool {
	for len(o.held) > 0 {
		if err := o.Sink.Write(o.held[0]); err != nil {
			o.writeErr = err
			return false
		}
		o.held[0] = nil
		o.held = o.held[1:]
		o.drained++
		o.written++
	}
	o.writeErr = nil
	return true
}

func (o *output) hold(ev *Event) {
	if len(o.held) >= holdLimit {
		o.held[0] = nil
		o.held = o.held[1:]
		o.lost++
	}
	o.held = append(o.held, ev)
}

// state returns the sink's current failure and the events waiting for it and
// lost to it, counting both what the Logger holds and what the sink reports.
func (o *output) state() (pending, lost int, err error) {
	sp, sl, serr := o.Sink.Status()
	err = o.writeErr
	if err == nil {
		err = serr
	}
	return len(o.held) + sp, o.lost + sl, err
}

// reportChanges notices sinks that went down or came back, reports each on
// the warnings writer and as an event to the other sinks, and repeats until
// nothing changes (reporting can itself make a sink fail).
func (l *Logger) reportChanges() {
	for range len(l.outs) + 1 {
		changed := false
		for _, o := range l.outs {
			pending, lost, err := o.state()
			switch {
			case err != nil && !o.down:
				changed = true
				o.down, o.downSince, o.downErr, o.drained = true, l.now(), err, 0
				fmt.Fprintf(l.warn, "cordon: audit: sink %s failed: %v (%d events waiting, %d lost)\n", o.Sink.Name(), err, pending, lost)
				l.deliver(l.stamp(SinkFailure{
					Sink: o.Sink.Name(), Required: o.Required, Error: err.Error(), Pending: pending, Lost: lost,
				}), o)
			case err == nil && o.down && len(o.held) == 0:
				changed = true
				o.down = false
				down := l.now().Sub(o.downSince)
				fmt.Fprintf(l.warn, "cordon: audit: sink %s works again after %s (%d held events delivered, %d lost)\n", o.Sink.Name(), down.Round(time.Millisecond), o.drained, lost)
				l.deliver(l.stamp(SinkRecovered{
					Sink: o.Sink.Name(), Down: Duration(down), Delivered: o.drained, Lost: lost,
				}), nil)
			}
		}
		if !changed {
			return
		}
	}
}

// SinkDownError reports a required sink that cannot take or deliver events.
type SinkDownError struct {
	Sink string
	Err  error
}

func (e *SinkDownError) Error() string {
	return fmt.Sprintf("audit sink %s is required by the policy but is down: %v", e.Sink, e.Err)
}

func (e *SinkDownError) Unwrap() error { return e.Err }

// Hint says what to do; the CLI prints it under the error.
func (e *SinkDownError) Hint() string {
	return fmt.Sprintf("no command starts until the %s sink works again; fix it, or set [audit.%s] required = false in the policy", e.Sink, e.Sink)
}

// Healthy returns nil when every required sink has taken and delivered every
// event emitted so far, and otherwise a *SinkDownError per failing required
// sink (joined). It flushes the required sinks: the file is synced to disk,
// queued OTLP records are sent. Call it after emitting the events that lead up
// to a command (at least one) and before starting the command: a required
// sink that has not taken any event yet has proved nothing and counts as down.
func (l *Logger) Healthy() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("audit: Healthy called after Close")
	}
	var required []*output
	for _, o := range l.outs {
		if o.Required {
			o.drain()
			required = append(required, o)
		}
	}
	l.reportChanges()
	l.mu.Unlock()

	// Flush without holding the lock: it may wait for the network, and Emit
	// must not wait with it.
	flushErrs := make([]error, len(required))
	for i, o := range required {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		flushErrs[i] = o.Sink.Flush(ctx)
		cancel()
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	l.reportChanges()
	var errs []error
	for i, o := range required {
		_, _, err := o.state()
		switch {
		case flushErrs[i] != nil:
			err = flushErrs[i]
		case err == nil && o.written == 0:
			err = errors.New("no event has been written to it yet, so it is not known to work (cordon must emit the run's first events before this check)")
		}
		if err != nil {
			errs = append(errs, &SinkDownError{Sink: o.Sink.Name(), Err: err})
		}
	}
	return errors.Join(errs...)
}

// Close delivers what it can, flushes and closes every sink (the file sink
// syncs to disk), and reports events that never reached a sink. Emit after
// Close reports the event as not recorded.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	for _, o := range l.outs {
		o.drain()
	}
	// Flush first and report failures while the other sinks are still open,
	// so that a collector failing at the end is still recorded in the file.
	flushErrs := make([]error, len(l.outs))
	for i, o := range l.outs {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		flushErrs[i] = o.Sink.Flush(ctx)
		cancel()
	}
	l.reportChanges()
	var errs []error
	for i := len(l.outs) - 1; i >= 0; i-- {
		o := l.outs[i]
		if err := errors.Join(flushErrs[i], o.Sink.Close()); err != nil {
			errs = append(errs, fmt.Errorf("audit sink %s: %w", o.Sink.Name(), err))
		}
		if pending, lost, err := o.state(); pending > 0 || lost > 0 {
			fmt.Fprintf(l.warn, "cordon: audit: %d events never reached sink %s (%d held at close, %d dropped): %v\n", pending+lost, o.Sink.Name(), pending, lost, err)
			errs = append(errs, fmt.Errorf("audit sink %s: %d events not recorded: %v", o.Sink.Name(), pending+lost, err))
		}
	}
	return errors.Join(errs...)
}
