package jsonl

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// The test binary doubles as the writer processes of the concurrency and
// crash tests: TestMain runs a role when the environment names one.
const (
	envRole   = "CORDON_JSONL_TEST_ROLE"
	envPath   = "CORDON_JSONL_TEST_PATH"
	envIndex  = "CORDON_JSONL_TEST_INDEX"
	envEvents = "CORDON_JSONL_TEST_EVENTS"
	envMax    = "CORDON_JSONL_TEST_MAXBYTES"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "":
		os.Exit(m.Run())
	case "writer":
		os.Exit(writerProcess())
	case "torn":
		os.Exit(tornWriterProcess())
	default:
		fmt.Fprintln(os.Stderr, "unknown role", os.Getenv(envRole))
		os.Exit(2)
	}
}

// writerProcess does what one cordon run will: open the log through a
// Logger, emit a run's events, close (fsync).
func writerProcess() int {
	index, _ := strconv.Atoi(os.Getenv(envIndex))
	events, _ := strconv.Atoi(os.Getenv(envEvents))
	maxBytes, _ := strconv.ParseInt(os.Getenv(envMax), 10, 64)
	sink, err := Open(os.Getenv(envPath), Options{MaxBytes: maxBytes})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	var warnings countingWriter
	l := audit.New(audit.IDs{Session: "concurrency", Run: fmt.Sprintf("writer-%02d", index)}, &warnings,
		audit.Output{Sink: sink, Required: true})
	for i := range events {
		l.Emit(audit.CommandRequested{Argv: []string{"writer", strconv.Itoa(index), strconv.Itoa(i)}, Source: "test"})
	}
	if err := l.Healthy(); err != nil {
		fmt.Fprintln(os.Stderr, "healthy:", err)
		return 1
	}
	if err := l.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	if warnings.n > 0 {
		fmt.Fprintln(os.Stderr, "the logger reported sink failures")
		return 1
	}
	return 0
}

// tornWriterProcess writes three events, then starts a fourth and writes only
// the first half of its line before announcing it and waiting to be killed.
func tornWriterProcess() int {
	sink, err := Open(os.Getenv(envPath), Options{MaxBytes: 1 << 30})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	ids := audit.IDs{Session: "crash", Run: "victim"}
	for i := range 3 {
		if err := sink.Write(testEvent(ids, i)); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			return 1
		}
	}
	testHookWrite = func(f *os.File, line []byte) (int, error) {
		n, err := f.Write(line[:len(line)/2])
		if err != nil {
			return n, err
		}
		fmt.Println("TORN", n)
		time.Sleep(time.Minute) // killed here, with the lock held
		return n, nil
	}
	_ = sink.Write(testEvent(ids, 3))
	return 3 // not reached when killed
}

func testEvent(ids audit.IDs, i int) *audit.Event {
	return &audit.Event{
		Schema:  audit.SchemaVersion,
		Time:    time.Date(2026, 11, 27, 9, 0, 0, i, time.UTC),
		Session: ids.Session,
		Run:     ids.Run,
		Kind:    audit.KindCommandRequested,
		Payload: audit.CommandRequested{Argv: []string{"git", "status", strconv.Itoa(i)}, Cwd: "/work", Source: "cli"},
	}
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n++; return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
