package audit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// fakeSink records what it is given; writeErr makes Write fail, statusErr
// plays a background delivery failure.
type fakeSink struct {
	name string
	mu   sync.Mutex
	got  []audit.Event

	writeErr  error
	statusErr error
	flushErr  error
	pending   int
	closed    bool
}

func (f *fakeSink) Name() string { return f.name }
func (f *fakeSink) Write(ev *audit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writeErr != nil {
		return f.writeErr
	}
	f.got = append(f.got, *ev)
	return nil
}
func (f *fakeSink) Status() (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending, 0, f.statusErr
}
func (f *fakeSink) Flush(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushErr
}
func (f *fakeSink) Close() error { f.closed = true; return nil }

func (f *fakeSink) set(fn func(*fakeSink)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeSink) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, ev := range f.got {
		k := string(ev.Kind)
		if c, ok := ev.Payload.(audit.CommandRequested); ok {
			k += ":" + strings.Join(c.Argv, " ")
		}
		out = append(out, k)
	}
	return out
}

var ids = audit.IDs{Session: "sess", Run: "run1"}

func cmd(s string) audit.Payload { return audit.CommandRequested{Argv: []string{s}} }

func TestEmitStampsCommonFields(t *testing.T) {
	a := &fakeSink{name: "a"}
	l := audit.New(ids, &bytes.Buffer{}, audit.Output{Sink: a})
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	l.SetClock(func() time.Time { return fixed })
	l.Emit(audit.RunEnd{Outcome: "completed"})
	ev := a.got[0]
	if ev.Schema != 1 || ev.Session != "sess" || ev.Run != "run1" || ev.Kind != audit.KindRunEnd ||
		!ev.Time.Equal(fixed) || ev.Time.Location() != time.UTC {
		t.Fatalf("stamped event: %+v", ev)
	}
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"time":"2026-01-02T02:04:05.000000006Z"`)) {
		t.Fatalf("time not in UTC with nine digits: %s", b)
	}
}

func TestFailedSinkIsReportedAndCatchesUp(t *testing.T) {
	a, b := &fakeSink{name: "a"}, &fakeSink{name: "b"}
	var warn bytes.Buffer
	l := audit.New(ids, &warn, audit.Output{Sink: a}, audit.Output{Sink: b})

	b.set(func(f *fakeSink) { f.writeErr = errors.New("disk on fire") })
	l.Emit(cmd("one"))
	l.Emit(cmd("two"))
	if !strings.Contains(warn.String(), "sink b failed: disk on fire") {
		t.Fatalf("warnings: %q", warn.String())
	}
	if got := a.kinds(); strings.Join(got, ",") != "command_requested:one,sink_failure,command_requested:two" {
		t.Fatalf("sink a got %v", got)
	}
	fail := a.got[1].Payload.(audit.SinkFailure)
	if fail.Sink != "b" || fail.Error != "disk on fire" || fail.Pending != 1 {
		t.Fatalf("sink_failure: %+v", fail)
	}

	b.set(func(f *fakeSink) { f.writeErr = nil })
	l.Emit(cmd("three"))
	if got := b.kinds(); strings.Join(got, ",") != "command_requested:one,command_requested:two,command_requested:three,sink_recovered" {
		t.Fatalf("sink b got %v", got)
	}
	rec := a.got[len(a.got)-1].Payload.(audit.SinkRecovered)
	if rec.Sink != "b" || rec.Delivered != 2 || rec.Lost != 0 {
		t.Fatalf("sink_recovered: %+v", rec)
	}
	if !strings.Contains(warn.String(), "sink b works again") {
		t.Fatalf("warnings: %q", warn.String())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEventsBeyondTheHoldAreCountedAndReported(t *testing.T) {
	a, b := &fakeSink{name: "a"}, &fakeSink{name: "b", writeErr: errors.New("gone")}
	var warn bytes.Buffer
	l := audit.New(ids, &warn, audit.Output{Sink: a}, audit.Output{Sink: b})
	for range 1005 {
		l.Emit(cmd("x"))
	}
	err := l.Close()
	if err == nil || !strings.Contains(err.Error(), "audit sink b: 1005 events not recorded") {
		t.Fatalf("Close: %v", err)
	}
	if !strings.Contains(warn.String(), "1005 events never reached sink b (1000 held at close, 5 dropped)") {
		t.Fatalf("warnings: %q", warn.String())
	}
	l.Emit(cmd("late"))
	if !strings.Contains(warn.String(), "emitted after the audit log was closed") {
		t.Fatalf("an event after Close was not reported: %q", warn.String())
	}
}

func TestBackgroundFailureIsReported(t *testing.T) {
	a, b := &fakeSink{name: "a"}, &fakeSink{name: "otlp"}
	l := audit.New(ids, &bytes.Buffer{}, audit.Output{Sink: a}, audit.Output{Sink: b})
	b.set(func(f *fakeSink) { f.statusErr, f.pending = errors.New("export: connection refused"), 4 })
	l.Emit(cmd("one"))
	fail, ok := a.got[len(a.got)-1].Payload.(audit.SinkFailure)
	if !ok || fail.Sink != "otlp" || fail.Pending != 4 || !strings.Contains(fail.Error, "connection refused") {
		t.Fatalf("sink a got %v", a.kinds())
	}
	b.set(func(f *fakeSink) { f.statusErr, f.pending = nil, 0 })
	l.Emit(cmd("two"))
	if _, ok := a.got[len(a.got)-1].Payload.(audit.SinkRecovered); !ok {
		t.Fatalf("sink a got %v", a.kinds())
	}
}

func TestHealthyRequiresRequiredSinks(t *testing.T) {
	a := &fakeSink{name: "file"}
	down := audit.Unavailable("otlp", errors.New("no endpoint configured"))

	// Not required: a broken sink is reported but does not stop commands.
	var warn bytes.Buffer
	l := audit.New(ids, &warn, audit.Output{Sink: a, Required: true}, audit.Output{Sink: down})
	if !strings.Contains(warn.String(), "sink otlp failed: no endpoint configured") {
		t.Fatalf("an unavailable sink was not reported at once: %q", warn.String())
	}
	l.Emit(cmd("one"))
	if err := l.Healthy(); err != nil {
		t.Fatalf("Healthy with only an optional sink down: %v", err)
	}

	// Required: Healthy fails, names the sink, the cause and the way out.
	l = audit.New(ids, &bytes.Buffer{}, audit.Output{Sink: a}, audit.Output{Sink: down, Required: true})
	l.Emit(cmd("one"))
	err := l.Healthy()
	var sde *audit.SinkDownError
	if !errors.As(err, &sde) || sde.Sink != "otlp" {
		t.Fatalf("Healthy: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "audit sink otlp is required by the policy but is down: no endpoint configured") {
		t.Fatalf("message: %s", msg)
	}
	if !strings.Contains(sde.Hint(), "[audit.otlp] required = false") {
		t.Fatalf("hint: %s", sde.Hint())
	}

	// A required sink whose flush fails is down too; so is one that has
	// not taken any event yet, since nothing proves it works.
	c := &fakeSink{name: "file"}
	l = audit.New(ids, &bytes.Buffer{}, audit.Output{Sink: c, Required: true})
	if err := l.Healthy(); err == nil || !strings.Contains(err.Error(), "no event has been written to it yet") {
		t.Fatalf("Healthy before any event: %v", err)
	}
	l.Emit(cmd("one"))
	c.set(func(f *fakeSink) { f.flushErr = errors.New("fsync: input/output error") })
	if err := l.Healthy(); err == nil || !strings.Contains(err.Error(), "fsync: input/output error") {
		t.Fatalf("Healthy with a failing flush: %v", err)
	}
	c.set(func(f *fakeSink) { f.flushErr = nil })
	if err := l.Healthy(); err != nil {
		t.Fatalf("Healthy after the flush works again: %v", err)
	}
}

func TestConcurrentEmit(t *testing.T) {
	a := &fakeSink{name: "a"}
	l := audit.New(ids, &bytes.Buffer{}, audit.Output{Sink: a})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				l.Emit(cmd("x"))
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil || len(a.got) != 800 || !a.closed {
		t.Fatalf("close %v, %d events", err, len(a.got))
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	for _, p := range audit.PayloadTypes {
		ev := &audit.Event{Schema: 1, Time: time.Unix(1, 2).UTC(), Session: "s", Run: "r", Kind: p.Kind(), Seq: 7, Prev: audit.ZeroHash, Hash: strings.Repeat("a", 64), Payload: p}
		b, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("null")) {
			t.Errorf("%s: nil slices must be written as []: %s", p.Kind(), b)
		}
		back, err := audit.ParseEvent(b)
		if err != nil {
			t.Fatalf("%s: %v", p.Kind(), err)
		}
		again, _ := back.MarshalJSON()
		if !bytes.Equal(b, again) || !bytes.HasSuffix(b, []byte(`,"hash":"`+strings.Repeat("a", 64)+`"}`)) {
			t.Errorf("%s: round trip\n %s\n %s", p.Kind(), b, again)
		}
	}
	if _, err := audit.ParseEvent([]byte(`{"v":2,"time":"2026-01-01T00:00:00Z","kind":"run_end"}`)); err == nil || !strings.Contains(err.Error(), "upgrade cordon") {
		t.Errorf("a newer schema version: %v", err)
	}
	if _, err := audit.ParseEvent([]byte(`{"v":1,"time":"2026-01-01T00:00:00Z","kind":"teleport"}`)); err == nil || !strings.Contains(err.Error(), `unknown event kind "teleport"`) {
		t.Errorf("an unknown kind: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := audit.DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	c := audit.DefaultConfig()
	c.File.Path = "relative/audit.jsonl"
	c.File.Sync = "sometimes"
	c.OTLP.Required = true
	c.OTLP.Endpoint = "collector:4318"
	err := c.Validate()
	for _, want := range []string{"audit.file.path", "audit.file.sync", "audit.otlp.required", "audit.otlp.endpoint"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not name %s: %v", want, err)
		}
	}
}
