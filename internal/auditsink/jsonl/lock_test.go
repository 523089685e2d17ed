package jsonl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// A process that holds the lock and never lets go (stopped, hung) does not
// block the Logger: the write gives up, the event is held and reported, and
// it is written, in order, once the lock is free again.
func TestStuckLockHolder(t *testing.T) {
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 50 * time.Millisecond

	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := Open(path, Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	// Another open file description conflicts like another process would.
	other, err := os.OpenFile(path+".head", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	release, err := lockFile(other, time.Second)
	if err != nil {
		t.Fatal(err)
	}

	var warn bytes.Buffer
	l := audit.New(audit.IDs{Session: "s", Run: "r"}, &warn, audit.Output{Sink: sink, Required: true})
	l.Emit(audit.CommandRequested{Argv: []string{"one"}})
	if !strings.Contains(warn.String(), "sink file failed: could not lock") {
		t.Fatalf("warnings: %q", warn.String())
	}
	if err := l.Healthy(); err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Fatalf("Healthy with the lock held elsewhere: %v", err)
	}

	release()
	l.Emit(audit.CommandRequested{Argv: []string{"two"}})
	if err := l.Healthy(); err != nil {
		t.Fatalf("Healthy after the lock was released: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r := verify(t, path)
	if len(r.Findings) != 0 || r.Events != 3 {
		t.Fatalf("%d events; findings:\n%s", r.Events, findings(r))
	}
	var kinds []string
	for _, line := range fileLines(t, path) {
		if ev, err := audit.ParseEvent(bytes.TrimSuffix(line, []byte("\n"))); err == nil {
			kinds = append(kinds, string(ev.Kind))
		}
	}
	if got := strings.Join(kinds, ","); got != "command_requested,command_requested,sink_recovered" {
		t.Fatalf("the log has %s", got)
	}
}
