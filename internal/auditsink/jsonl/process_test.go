package jsonl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/cordon-sandbox/cordon/audit"
)

// 50 processes append to one log at the same time, with rotation on: the
// chain must verify and hold every event exactly once, in each writer's
// order.
func TestConcurrentProcesses(t *testing.T) {
	const writers, events = 50, 20
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	maxBytes := int64(64 << 10) // about 4 rotations for 1000 events
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			envRole+"=writer", envPath+"="+path, envIndex+"="+strconv.Itoa(i),
			envEvents+"="+strconv.Itoa(events), envMax+"="+strconv.FormatInt(maxBytes, 10))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				errs[i] = fmt.Errorf("writer %d: %v: %s", i, err, stderr.String())
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Errorf("expected the log to rotate, got %v", files)
	}
	r := verify(t, files...)
	if len(r.Findings) != 0 || r.Events != writers*events || r.LastSeq != writers*events {
		t.Fatalf("%d events, last seq %d; findings:\n%s", r.Events, r.LastSeq, findings(r))
	}
	next := make([]int, writers) // next event index expected from each writer
	for _, f := range files {
		for _, line := range fileLines(t, f) {
			if len(line) == 0 {
				continue
			}
			ev, err := audit.ParseEvent(bytes.TrimSuffix(line, []byte("\n")))
			if err != nil {
				t.Fatal(err)
			}
			argv := ev.Payload.(audit.CommandRequested).Argv
			w, _ := strconv.Atoi(argv[1])
			i, _ := strconv.Atoi(argv[2])
			if i != next[w] {
				t.Fatalf("writer %d: event %d follows event %d", w, i, next[w]-1)
			}
			next[w]++
		}
	}
	for w, n := range next {
		if n != events {
			t.Errorf("writer %d: %d of %d events in the log", w, n, events)
		}
	}
}
