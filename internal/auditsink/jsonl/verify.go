package jsonl

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"

	"github.com/cordon-sandbox/cordon/audit"
)

// Severity grades a verification finding.
type Severity int

const (
	// Note is not a problem: a crash that was recovered, a chain that starts
	// in a file that was not checked.
	Note Severity = iota
	// Truncated: the end of the chain is missing (an incomplete last line, or
	// fewer events than the head record says were written).
	Truncated
	// Broken: the files are not what cordon wrote: a line was edited,
	// deleted, inserted or moved, or is not an event.
	Broken
)

func (s Severity) String() string {
	switch s {
	case Note:
		return "note"
	case Truncated:
		return "truncated"
	}
	return "broken"
}

// Finding is one observation of Verify, located as precisely as possible.
type Finding struct {
	File     string
	Line     int    // first line concerned, 1-based; 0 for the file as a whole
	LastLine int    // last line concerned when it is a range, else 0
	Seq      uint64 // seq of the event at Line, 0 when there is none
	Severity Severity
	Message  string
}

func (f Finding) String() string {
	loc := f.File
	switch {
	case f.LastLine > f.Line:
		loc += fmt.Sprintf(":%d-%d", f.Line, f.LastLine)
	case f.Line > 0:
		loc += fmt.Sprintf(":%d", f.Line)
	}
	if f.Seq > 0 {
		loc += fmt.Sprintf(" (seq %d)", f.Seq)
	}
	return fmt.Sprintf("%s: %s: %s", loc, f.Severity, f.Message)
}

// Report is the result of Verify.
type Report struct {
	Files    []string
	Events   int
	FirstSeq uint64
	LastSeq  uint64
	LastHash string // hash of the last event: store it elsewhere to anchor the chain
	Findings []Finding
}

// Worst returns the most severe finding's severity (Note when none).
func (r *Report) Worst() Severity {
	w := Note
	for _, f := range r.Findings {
		w = max(w, f.Severity)
	}
	return w
}

// Verify checks the chain across files, in the order given (use Files for a
// log and its rotated files). For a file with a head record next to it
// (<file>.head, the active log) it reads a consistent snapshot under the
// lock and also checks that nothing was cut off the end. The error is for
// files that cannot be read; everything about their content is a Finding.
func Verify(paths []string) (*Report, error) {
	v := &verifier{r: &Report{Files: paths}}
	for _, p := range paths {
		if err := v.file(p); err != nil {
			return v.r, err
		}
	}
	return v.r, nil
}

type verifier struct {
	r          *Report
	started    bool
	expectSeq  uint64
	expectPrev string

	// per file
	path      string
	torn      hash.Hash
	tornBytes int64
	tornFirst int
	tornLast  int
}

func (v *verifier) add(line, last int, seq uint64, sev Severity, format string, args ...any) {
	v.r.Findings = append(v.r.Findings, Finding{File: v.path, Line: line, LastLine: last, Seq: seq, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) file(path string) error {
	v.path = path
	v.torn = nil
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	size, hd, hdState := snapshot(path, f)
	switch hdState {
	case headUnreadable:
		v.add(0, 0, 0, Note, "the head record %s.head is unreadable, so lines cut off the end of this file cannot be detected", path)
	case headLockTimeout:
		v.add(0, 0, 0, Note, "could not lock %s.head; checked the file as it was, without its head record", path)
	}

	var fileEvents int
	var fileLastSeq uint64
	headHashSeen := false
	br := bufio.NewReaderSize(io.LimitReader(f, size), 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				v.tear(lineNo, line)
				v.add(v.tornFirst, v.tornLast, 0, Truncated,
					"incomplete last line (%d bytes without a newline): a writer was killed while writing it, or the file was cut; the next write closes it with a recovery event", v.tornBytes)
				v.torn = nil
			}
			break
		}
		if err != nil {
			return err
		}
		line = line[:len(line)-1]
		body, stored, ok := splitLine(line)
		var h chainHeader
		if ok {
			h, err = parseHeader(body)
			ok = err == nil
		}
		if !ok {
			v.tear(lineNo, line)
			continue
		}
		v.event(lineNo, body, stored, h)
		fileEvents++
		fileLastSeq = h.Seq
		if hdState == headOK && h.Seq == hd.Seq {
			headHashSeen = true
			if stored != hd.Hash {
				v.add(lineNo, 0, h.Seq, Broken, "the head record says seq %d has hash %s, the line has %s: the line was rewritten after it was written", hd.Seq, hd.Hash, stored)
			}
		}
	}
	if v.torn != nil {
		v.add(v.tornFirst, v.tornLast, 0, Truncated,
			"%d bytes at the end of the file are not events: a writer was killed while writing; the next write closes them with a recovery event", v.tornBytes)
	}
	if hdState == headOK {
		switch {
		case size < hd.Size:
			v.add(0, 0, 0, Truncated, "the file has %d bytes but %d were written to it (head record, last seq %d): data was cut off the end of the file", size, hd.Size, hd.Seq)
		case fileEvents > 0 && fileLastSeq < hd.Seq:
			v.add(0, 0, 0, Truncated, "the head record says the chain reached seq %d, but the file ends at seq %d: %s cut off the end", hd.Seq, fileLastSeq, events(hd.Seq-fileLastSeq))
		case fileEvents > 0 && !headHashSeen && fileLastSeq >= hd.Seq && hd.Size > 0:
			v.add(0, 0, 0, Broken, "the head record names seq %d, which is not in the file", hd.Seq)
		}
	}
	return nil
}

// tear adds a line that is not an event to the current torn region.
func (v *verifier) tear(lineNo int, line []byte) {
	if v.torn == nil {
		v.torn, v.tornBytes, v.tornFirst = sha256.New(), 0, lineNo
	} else {
		v.torn.Write([]byte{'\n'})
		v.tornBytes++
	}
	v.torn.Write(line)
	v.tornBytes += int64(len(line))
	v.tornLast = lineNo
}

func (v *verifier) event(lineNo int, body []byte, stored string, h chainHeader) {
	if v.torn != nil {
		sum := fmt.Sprintf("%x", v.torn.Sum(nil))
		if h.Kind == audit.KindRecovery && h.TornBytes == v.tornBytes && h.TornSHA256 == sum {
			v.add(v.tornFirst, v.tornLast, 0, Note, "%d bytes left incomplete by a writer that was killed mid-write, closed by the recovery event on line %d", v.tornBytes, lineNo)
		} else if h.Kind == audit.KindRecovery {
			v.add(v.tornFirst, v.tornLast, 0, Broken, "%d bytes that are not events; the recovery event on line %d describes %d bytes with SHA-256 %s, not these (%s)", v.tornBytes, lineNo, h.TornBytes, h.TornSHA256, sum)
		} else {
			v.add(v.tornFirst, v.tornLast, 0, Broken, "%d bytes that are not events, inside the chain (no recovery event follows them): the file was edited", v.tornBytes)
		}
		v.torn = nil
	} else if h.Kind == audit.KindRecovery {
		v.add(lineNo, 0, h.Seq, Broken, "a recovery event, but no incomplete line precedes it: the line it closed was removed")
	}

	if computed := hashHex(body); computed != stored {
		v.add(lineNo, 0, h.Seq, Broken, "the line's content does not match its hash (stored %s, content hashes to %s): the line was edited", stored, computed)
	}
	switch {
	case !v.started:
		v.r.FirstSeq = h.Seq
		switch {
		case h.Seq == 1 && h.Prev != audit.ZeroHash:
			v.add(lineNo, 0, h.Seq, Broken, "the first event of a chain must have prev %s, not %s", audit.ZeroHash, h.Prev)
		case h.Seq > 1:
			v.add(lineNo, 0, h.Seq, Note, "the chain starts at seq %d: %s before it in files that were not checked (rotated files removed or not given)", h.Seq, events(h.Seq-1))
		}
	case h.Seq == v.expectSeq && h.Prev == v.expectPrev:
	case h.Seq > v.expectSeq:
		v.add(lineNo, 0, h.Seq, Broken, "expected seq %d, found %d: %s missing before this line (lines deleted or a rotated file removed)", v.expectSeq, h.Seq, events(h.Seq-v.expectSeq))
	case h.Seq < v.expectSeq:
		v.add(lineNo, 0, h.Seq, Broken, "expected seq %d, found %d: lines were swapped, moved or repeated", v.expectSeq, h.Seq)
	default:
		v.add(lineNo, 0, h.Seq, Broken, "prev is %s, expected %s (the hash of seq %d): the line before was replaced or rewritten", h.Prev, v.expectPrev, v.expectSeq-1)
	}
	v.started = true
	v.expectSeq, v.expectPrev = h.Seq+1, stored
	v.r.Events++
	v.r.LastSeq, v.r.LastHash = h.Seq, stored
}

type headState int

const (
	headNone headState = iota
	headOK
	headUnreadable
	headLockTimeout
)

// snapshot returns how many bytes of f to check and, for an active log, its
// head record, read together under the lock so that appends in between do
// not look like a mismatch.
func snapshot(path string, f *os.File) (size int64, h head, state headState) {
	// Read-only is enough for the lock, so an auditor who may not write the
	// log can still check it.
	hf, err := os.Open(path + ".head")
	if errors.Is(err, fs.ErrNotExist) {
		fi, err := f.Stat()
		if err != nil {
			return 0, head{}, headNone
		}
		return fi.Size(), head{}, headNone
	}
	if err != nil {
		hf = nil
	} else {
		defer hf.Close()
	}
	state = headUnreadable
	if hf != nil {
		if unlock, err := lockFile(hf, lockTimeout); err == nil {
			defer unlock()
			if hd, ok := readHead(hf); ok {
				h, state = hd, headOK
			}
		} else {
			state = headLockTimeout
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, head{}, headNone
	}
	// A rotated file never has a head record; the head next to the active
	// log describes the file the path names now, which is f unless the log
	// was rotated between opening f and taking the lock.
	if cur, err := os.Stat(path); err != nil || !os.SameFile(cur, fi) {
		return fi.Size(), head{}, headNone
	}
	return fi.Size(), h, state
}

func events(n uint64) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}
