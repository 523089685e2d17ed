package jsonl

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// Follow keeps delivering events while another writer appends and rotates,
// each exactly once, in chain order.
func TestReaderFollowsAcrossRotation(t *testing.T) {
	path := writeLog(t, 5, Options{MaxBytes: 1500})
	r := NewReader(path)
	defer r.Close()
	var mu sync.Mutex
	var seqs []uint64
	collect := func(line []byte) error {
		ev, err := audit.ParseEvent(line)
		if err != nil {
			t.Errorf("not an event: %q", line)
			return nil
		}
		mu.Lock()
		seqs = append(seqs, ev.Seq)
		mu.Unlock()
		return nil
	}
	if err := r.ReadAll(collect); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Follow(ctx, 5*time.Millisecond, collect) }()

	s, err := Open(path, Options{MaxBytes: 1500})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if err := s.Write(testEvent(audit.IDs{Session: "s", Run: "follow"}, i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.Close()
	files, _ := Files(path)
	if len(files) < 3 {
		t.Fatalf("no rotation happened: %v", files)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(seqs)
		mu.Unlock()
		if n >= 35 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 35 {
		t.Fatalf("followed %d events, want 35: %v", len(seqs), seqs)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("event %d has seq %d: %v", i, s, seqs)
		}
	}
}
