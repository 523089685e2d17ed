package jsonl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/audit"
)

// writeLog writes n events to a new log in a temp dir and returns its path.
func writeLog(t *testing.T, n int, opts Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ids := audit.IDs{Session: "s1", Run: "r1"}
	for i := range n {
		ev := testEvent(ids, i)
		if err := s.Write(ev); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != uint64(i+1) || len(ev.Hash) != 64 {
			t.Fatalf("event %d: seq %d hash %q after Write", i, ev.Seq, ev.Hash)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(data, []byte("\n"))
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, paths ...string) *Report {
	t.Helper()
	r, err := Verify(paths)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestChainIntact(t *testing.T) {
	path := writeLog(t, 20, Options{MaxBytes: 1 << 20})
	r := verify(t, path)
	if len(r.Findings) != 0 || r.Events != 20 || r.FirstSeq != 1 || r.LastSeq != 20 {
		t.Fatalf("intact log: %+v", r)
	}
	lines := fileLines(t, path)
	first, err := audit.ParseEvent(bytes.TrimSuffix(lines[0], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	if first.Prev != audit.ZeroHash || first.Seq != 1 {
		t.Fatalf("first event: seq %d prev %s", first.Seq, first.Prev)
	}
	// The hash covers exactly the bytes before `,"hash":"`.
	body, stored, ok := splitLine(bytes.TrimSuffix(lines[3], []byte("\n")))
	if !ok || hashHex(body) != stored {
		t.Fatalf("line 4: stored hash %s does not cover its body", stored)
	}
	if _, lastHash, _ := splitLine(bytes.TrimSuffix(lines[19], []byte("\n"))); r.LastHash != lastHash {
		t.Fatalf("LastHash %s is not the last line's hash", r.LastHash)
	}
}

// resealed returns line (with newline) rewritten by edit and given a correct
// hash again, as a careful forger would.
func resealed(t *testing.T, line []byte, edit func(string) string) []byte {
	t.Helper()
	body, _, ok := splitLine(bytes.TrimSuffix(line, []byte("\n")))
	if !ok {
		t.Fatal("not an event line")
	}
	nb := []byte(edit(string(body)))
	return []byte(string(nb) + hashMember + hashHex(nb) + "\"}\n")
}

func TestChainDetectsTampering(t *testing.T) {
	const n = 10
	cases := []struct {
		name     string
		tamper   func(t *testing.T, path string, lines [][]byte) // lines: n complete lines + ""
		worst    Severity
		line     int // a finding must point at this line with severity worst
		contains string
	}{
		{
			name: "edited field",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				lines[4] = bytes.Replace(lines[4], []byte(`"git","status"`), []byte(`"git","push"`), 1)
				writeLines(t, path, lines)
			},
			worst: Broken, line: 5, contains: "does not match its hash",
		},
		{
			name: "edited field with the hash recomputed",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				lines[4] = resealed(t, lines[4], func(s string) string { return strings.Replace(s, `"/work"`, `"/tmp"`, 1) })
				writeLines(t, path, lines)
			},
			worst: Broken, line: 6, contains: "prev is",
		},
		{
			name: "deleted line",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				writeLines(t, path, append(lines[:4:4], lines[5:]...))
			},
			worst: Broken, line: 5, contains: "expected seq 5, found 6",
		},
		{
			name: "swapped lines",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				lines[4], lines[5] = lines[5], lines[4]
				writeLines(t, path, lines)
			},
			worst: Broken, line: 6, contains: "expected seq 7, found 5",
		},
		{
			name: "inserted copy of a line",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				out := append([][]byte{}, lines[:3]...)
				out = append(out, lines[2])
				writeLines(t, path, append(out, lines[3:]...))
			},
			worst: Broken, line: 4, contains: "expected seq 4, found 3",
		},
		{
			name: "text that is not an event inside the chain",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				out := append([][]byte{}, lines[:3]...)
				out = append(out, []byte("rm -rf / was never run\n"))
				writeLines(t, path, append(out, lines[3:]...))
			},
			worst: Broken, line: 4, contains: "not events, inside the chain",
		},
		{
			name: "file cut in the middle of the last line",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				last := lines[n-1]
				lines[n-1] = last[:len(last)/2]
				writeLines(t, path, lines)
			},
			worst: Truncated, line: n, contains: "incomplete last line",
		},
		{
			name: "whole lines cut off the end",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				writeLines(t, path, lines[:n-2])
			},
			worst: Truncated, line: 0, contains: "cut off the end",
		},
		{
			name: "last line rewritten with its hash recomputed",
			tamper: func(t *testing.T, path string, lines [][]byte) {
				lines[n-1] = resealed(t, lines[n-1], func(s string) string { return strings.Replace(s, `"cli"`, `"mcp"`, 1) })
				writeLines(t, path, lines)
			},
			worst: Broken, line: n, contains: "head record says seq 10 has hash",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeLog(t, n, Options{MaxBytes: 1 << 20})
			before, _ := os.ReadFile(path)
			if r := verify(t, path); len(r.Findings) != 0 {
				t.Fatalf("before tampering: %v", r.Findings)
			}
			tc.tamper(t, path, fileLines(t, path))
			after, _ := os.ReadFile(path)
			if bytes.Equal(before, after) {
				t.Fatal("the tampering changed nothing")
			}
			r := verify(t, path)
			if r.Worst() != tc.worst {
				t.Fatalf("worst = %v, want %v; findings:\n%s", r.Worst(), tc.worst, findings(r))
			}
			for _, f := range r.Findings {
				if f.Line == tc.line && f.Severity == tc.worst && strings.Contains(f.Message, tc.contains) {
					return
				}
			}
			t.Fatalf("no %v finding on line %d containing %q; findings:\n%s", tc.worst, tc.line, tc.contains, findings(r))
		})
	}
}

func findings(r *Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// A copy of a crash: the head record as it was before the last append, and
// the file ending in half a line. The next writer closes the torn line with a
// recovery event, after which the chain verifies.
func TestRecoveryAfterTornLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	s, err := Open(path, Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ids := audit.IDs{Session: "s", Run: "r"}
	for i := range 4 {
		if err := s.Write(testEvent(ids, i)); err != nil {
			t.Fatal(err)
		}
	}
	headBefore, _ := os.ReadFile(path + ".head")
	sizeBefore := fileSize(t, path)
	if err := s.Write(testEvent(ids, 4)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	cut := sizeBefore + (fileSize(t, path)-sizeBefore)/2
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".head", headBefore, 0o600); err != nil {
		t.Fatal(err)
	}

	r := verify(t, path)
	if r.Worst() != Truncated || r.Events != 4 {
		t.Fatalf("after the crash: worst %v, %d events; findings:\n%s", r.Worst(), r.Events, findings(r))
	}

	s, err = Open(path, Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent(audit.IDs{Session: "s", Run: "next"}, 9)
	if err := s.Write(ev); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ev.Seq != 6 {
		t.Fatalf("the event after the recovery has seq %d, want 6 (4 events, recovery, this)", ev.Seq)
	}
	r = verify(t, path)
	if r.Worst() != Note || r.Events != 6 {
		t.Fatalf("after recovery: worst %v, %d events; findings:\n%s", r.Worst(), r.Events, findings(r))
	}
	lines := fileLines(t, path)
	rec, err := audit.ParseEvent(bytes.TrimSuffix(lines[5], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := rec.Payload.(audit.Recovery)
	if !ok || p.TornBytes != cut-sizeBefore || rec.Seq != 5 {
		t.Fatalf("line 6 is %+v, want a recovery of %d bytes with seq 5", rec, cut-sizeBefore)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestRotationCarriesTheChain(t *testing.T) {
	path := writeLog(t, 60, Options{MaxBytes: 2000})
	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("expected several rotated files, got %v", files)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Size() > 2000 {
			t.Errorf("%s has %d bytes, more than the 2000 allowed", f, fi.Size())
		}
	}
	r := verify(t, files...)
	if len(r.Findings) != 0 || r.Events != 60 || r.LastSeq != 60 {
		t.Fatalf("rotated chain: %d events, last seq %d; findings:\n%s", r.Events, r.LastSeq, findings(r))
	}
	// The active file alone starts mid-chain: a note, not a problem.
	r = verify(t, path)
	if r.Worst() != Note || len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Message, "chain starts at seq") {
		t.Fatalf("active file alone: %s", findings(r))
	}
	// Removing a rotated file in the middle breaks the chain.
	r = verify(t, append(files[:1:1], files[2:]...)...)
	if r.Worst() != Broken {
		t.Fatalf("a rotated file removed: %s", findings(r))
	}
	// Appending after the rotation continues the same chain.
	s, err := Open(path, Options{MaxBytes: 2000})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent(audit.IDs{Session: "s", Run: "again"}, 1)
	if err := s.Write(ev); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ev.Seq != 61 {
		t.Fatalf("next seq %d, want 61", ev.Seq)
	}
}

// A writer that finds no head record (deleted, or a log from elsewhere) still
// continues the chain from the file's last line.
func TestNoHeadRecordContinuesFromTheFile(t *testing.T) {
	path := writeLog(t, 3, Options{MaxBytes: 1 << 20})
	if err := os.Remove(path + ".head"); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent(audit.IDs{Session: "s", Run: "r"}, 7)
	if err := s.Write(ev); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if r := verify(t, path); ev.Seq != 4 || len(r.Findings) != 0 {
		t.Fatalf("seq %d; findings:\n%s", ev.Seq, findings(r))
	}
}
