//go:build unix

package jsonl

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// A writer is SIGKILLed halfway through writing a line, with the lock held.
// verify calls that truncation; the next writer gets the lock, closes the
// torn line with a recovery event, and the chain verifies again.
func TestSIGKILLMidWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envRole+"=torn", envPath+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	announced := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		announced <- line
	}()
	var tornBytes int64
	select {
	case line := <-announced:
		if _, err := fmt.Sscanf(line, "TORN %d", &tornBytes); err != nil {
			cmd.Process.Kill()
			t.Fatalf("writer said %q (stderr %s)", line, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the writer did not reach the torn write; stderr: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer was not killed by SIGKILL: %v", err)
	}

	r := verify(t, path)
	if r.Worst() != Truncated || r.Events != 3 {
		t.Fatalf("after SIGKILL: worst %v, %d events; findings:\n%s", r.Worst(), r.Events, findings(r))
	}
	if !strings.Contains(r.Findings[0].Message, "incomplete last line") || r.Findings[0].Line != 4 {
		t.Fatalf("finding: %v", r.Findings[0])
	}

	s, err := Open(path, Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent(audit.IDs{Session: "crash", Run: "next"}, 0)
	if err := s.Write(ev); err != nil {
		t.Fatalf("the next writer (lock released by the kill?): %v", err)
	}
	s.Close()
	r = verify(t, path)
	if r.Worst() != Note || r.Events != 5 || ev.Seq != 5 {
		t.Fatalf("after recovery: worst %v, %d events, new seq %d; findings:\n%s", r.Worst(), r.Events, ev.Seq, findings(r))
	}
	lines := fileLines(t, path)
	if len(lines[3]) != int(tornBytes)+1 {
		t.Fatalf("line 4 has %d bytes, the writer wrote %d before it was killed", len(lines[3])-1, tornBytes)
	}
	rec, err := audit.ParseEvent(bytes.TrimSuffix(lines[4], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := rec.Payload.(audit.Recovery); !ok || p.TornBytes != tornBytes || p.TornSHA256 != hashHex(bytes.TrimSuffix(lines[3], []byte("\n"))) {
		t.Fatalf("line 5: %+v", rec)
	}
}
