package jsonl

import (
	"path/filepath"
	"testing"

	"github.com/cordon-sandbox/cordon/audit"
)

// Events per second one process writes with the chain: lock, end of chain,
// hash, one write, head record; no fsync (the default: fsync per run).
func BenchmarkAppend(b *testing.B) { benchmarkAppend(b, false) }

// The same with sync = "event": fsync after every event.
func BenchmarkAppendSyncEachEvent(b *testing.B) { benchmarkAppend(b, true) }

func benchmarkAppend(b *testing.B, syncEach bool) {
	s, err := Open(filepath.Join(b.TempDir(), "audit.jsonl"), Options{MaxBytes: 1 << 40, SyncEachEvent: syncEach})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ev := testEvent(audit.IDs{Session: "bench", Run: "bench"}, 0)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// Verifying: events per second.
func BenchmarkVerify(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.jsonl")
	s, err := Open(path, Options{MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	ev := testEvent(audit.IDs{Session: "bench", Run: "bench"}, 0)
	const n = 10000
	for range n {
		if err := s.Write(ev); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	for b.Loop() {
		if r, err := Verify([]string{path}); err != nil || r.Events != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "events/s")
}
