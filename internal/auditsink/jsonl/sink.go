package jsonl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// lockTimeout bounds how long a write waits for another process's append
// (a variable so that tests need not wait as long).
var lockTimeout = 2 * time.Second

// Options tune a Sink.
type Options struct {
	// MaxBytes: rotate before the log would grow beyond this (at least one
	// event always goes into a fresh file, however large).
	MaxBytes int64
	// SyncEachEvent calls fsync after every event instead of only in Flush
	// and Close.
	SyncEachEvent bool
}

// Sink appends events to a hash-chained JSON-lines file that any number of
// processes share (see the package documentation).
type Sink struct {
	path string
	opts Options

	mu       sync.Mutex
	f        *os.File // the log as this process last saw it
	head     *os.File // lock and head record
	dirty    bool     // written since the last fsync
	dirDirty bool     // a file was created or renamed since the last dir sync
	syncErr  error    // last failed fsync, until one succeeds
	closed   bool
}

var _ audit.Sink = (*Sink)(nil)

// testHookWrite replaces the append in tests (to tear a line on purpose).
var testHookWrite func(f *os.File, line []byte) (int, error)

// Open opens (creating if needed, with its directory) the log at path.
func Open(path string, opts Options) (*Sink, error) {
	if opts.MaxBytes <= 0 {
		return nil, errors.New("audit file sink: MaxBytes must be positive")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &fileError{op: "create the audit log directory", path: dir, err: err}
	}
	hf, err := os.OpenFile(path+".head", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &fileError{op: "open the audit lock file", path: path + ".head", err: err}
	}
	unlock, err := lockFile(hf, lockTimeout)
	if err != nil {
		hf.Close()
		return nil, err
	}
	defer unlock()
	_, statErr := os.Stat(path)
	f, err := openLog(path, true)
	if err != nil {
		hf.Close()
		return nil, &fileError{op: "open the audit log", path: path, err: err}
	}
	return &Sink{path: path, opts: opts, f: f, head: hf, dirDirty: errors.Is(statErr, fs.ErrNotExist)}, nil
}

// Name implements audit.Sink.
func (s *Sink) Name() string { return "file" }

// Path returns the log's path.
func (s *Sink) Path() string { return s.path }

// Write appends ev as the next event of the chain, under the lock, after
// closing an incomplete last line with a recovery event and rotating if the
// file would grow too large. On success it sets ev.Seq, ev.Prev and ev.Hash.
func (s *Sink) Write(ev *audit.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("audit file sink is closed")
	}
	unlock, err := lockFile(s.head, lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	size, err := s.followRotation()
	if err != nil {
		return err
	}
	t, err := s.readTip(size)
	if err != nil {
		return &fileError{op: "read the end of the audit log", path: s.path, err: err}
	}
	if t.tornStart >= 0 {
		if err := s.recover(ev, &t); err != nil {
			return err
		}
	}
	line, hash, err := seal(ev, t.seq+1, t.hash)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	if t.size > 0 && t.size+int64(len(line)) > s.opts.MaxBytes {
		if err := s.rotate(t); err != nil {
			return err
		}
		t.size = 0
	}
	if err := s.append(line); err != nil {
		return err
	}
	// The head record is a hint: when it is stale, the next writer reads the
	// log's last line instead. So a failure here does not fail the event.
	_ = writeHead(s.head, head{Seq: t.seq + 1, Hash: hash, Size: t.size + int64(len(line))})
	if s.opts.SyncEachEvent {
		s.syncLocked()
	}
	ev.Seq, ev.Prev, ev.Hash = t.seq+1, t.hash, hash
	return nil
}

func (s *Sink) append(line []byte) error {
	write := testHookWrite
	if write == nil {
		write = (*os.File).Write
	}
	s.dirty = true
	n, err := write(s.f, line)
	if err == nil && n < len(line) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(line))
	}
	if err != nil {
		// A partial line is closed by the next writer with a recovery event.
		return &fileError{op: "append to the audit log", path: s.path, err: err}
	}
	return nil
}

// recover closes the torn data at the end of the log with a recovery event.
func (s *Sink) recover(cause *audit.Event, t *tip) error {
	torn := make([]byte, t.tornEnd-t.tornStart)
	if _, err := s.f.ReadAt(torn, t.tornStart); err != nil {
		return &fileError{op: "read the incomplete last line of the audit log", path: s.path, err: err}
	}
	rec := &audit.Event{
		Schema:  audit.SchemaVersion,
		Time:    time.Now().UTC(),
		Session: cause.Session,
		Run:     cause.Run,
		Kind:    audit.KindRecovery,
		Payload: audit.Recovery{TornBytes: int64(len(torn)), TornSHA256: hashHex(torn)},
	}
	line, hash, err := seal(rec, t.seq+1, t.hash)
	if err != nil {
		return err
	}
	if !t.endsInNewline {
		line = append([]byte{'\n'}, line...)
	}
	if err := s.append(line); err != nil {
		return err
	}
	t.seq, t.hash, t.size = t.seq+1, hash, t.size+int64(len(line))
	t.tornStart, t.tornEnd, t.endsInNewline = -1, -1, true
	_ = writeHead(s.head, head{Seq: t.seq, Hash: t.hash, Size: t.size})
	return nil
}

// followRotation reopens the log when another process rotated or removed
// it since this one opened it, and returns the open log's size. Called with
// the lock held.
func (s *Sink) followRotation() (int64, error) {
	fi, err := os.Stat(s.path)
	if err == nil {
		cur, err := s.f.Stat()
		if err == nil && os.SameFile(fi, cur) {
			return cur.Size(), nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, &fileError{op: "stat the audit log", path: s.path, err: err}
	}
	f, err := openLog(s.path, true)
	if err != nil {
		return 0, &fileError{op: "reopen the audit log", path: s.path, err: err}
	}
	s.swap(f)
	cur, err := f.Stat()
	if err != nil {
		return 0, &fileError{op: "stat the audit log", path: s.path, err: err}
	}
	return cur.Size(), nil
}

// swap replaces the open log, syncing what this process wrote to the old one.
func (s *Sink) swap(f *os.File) {
	if s.dirty {
		s.syncLocked()
	}
	s.f.Close()
	s.f = f
	s.dirDirty = true
}

// readTip finds the end of the chain in the log of the given size: the
// last event's seq and hash, and any torn data after it. The head record
// answers when it matches the file; otherwise the file (and, if it has no
// event, the newest rotated file) does.
func (s *Sink) readTip(size int64) (tip, error) {
	t := tip{size: size, tornStart: -1, tornEnd: -1, endsInNewline: true}
	h, ok := readHead(s.head)
	if ok && h.Size == size {
		// The usual case: nothing was appended since the head record.
		if s.lineEndsWith(h.Size, h.Hash) {
			t.seq, t.hash = h.Seq, h.Hash
			return t, nil
		}
	}
	if size > 0 {
		var b [1]byte
		if _, err := s.f.ReadAt(b[:], size-1); err != nil {
			return tip{}, err
		}
		t.endsInNewline = b[0] == '\n'
	}
	var err error
	switch {
	case ok && h.Size < size && s.lineEndsWith(h.Size, h.Hash):
		// A crash between an append and the head update left a line, or
		// a torn line, after what the head record knows.
		t.seq, t.hash = h.Seq, h.Hash
		err = scanFrom(s.f, h.Size, size, &t)
	case ok && h.Size > size:
		// The file is shorter than what was written to it: lines were
		// removed. Continue from the head so that verify shows the gap
		// instead of a silently shorter chain.
		t.seq, t.hash = h.Seq, h.Hash
		if !t.endsInNewline {
			nl, err := lastByteBefore(s.f, size, '\n')
			if err != nil {
				return tip{}, err
			}
			t.tornStart, t.tornEnd = nl+1, size
		}
	default:
		var start int64
		if start, err = lastEventStart(s.f, size); err != nil {
			return tip{}, err
		}
		if err = scanFrom(s.f, max(start, 0), size, &t); err != nil {
			return tip{}, err
		}
		if t.seq == 0 {
			t.seq, t.hash, err = s.lastRotatedEvent()
		}
	}
	if err != nil {
		return tip{}, err
	}
	if t.hash == "" {
		t.hash = audit.ZeroHash
	}
	return t, nil
}

// lineEndsWith reports whether the log has a line ending at end (just before
// offset end) whose hash is hash. end 0 is the start of an empty chain file.
func (s *Sink) lineEndsWith(end int64, hash string) bool {
	if end == 0 {
		return true
	}
	if end < int64(suffixLen)+1 {
		return false
	}
	b := make([]byte, suffixLen+1)
	if _, err := s.f.ReadAt(b, end-int64(len(b))); err != nil {
		return false
	}
	return b[len(b)-1] == '\n' && isHashSuffix(b[:suffixLen]) &&
		bytes.Equal(b[len(hashMember):len(hashMember)+hashLen], []byte(hash))
}

func (s *Sink) lastRotatedEvent() (uint64, string, error) {
	rotated, err := rotatedFiles(s.path)
	if err != nil || len(rotated) == 0 {
		return 0, "", err
	}
	return lastEventOf(rotated[len(rotated)-1])
}

// rotate renames the full log to its rotated name and starts an empty one,
// carrying the chain's end in the head record. Called with the lock held.
func (s *Sink) rotate(t tip) error {
	s.syncLocked()
	name := rotatedName(s.path, t.seq)
	if _, err := os.Lstat(name); err == nil {
		return &fileError{op: "rotate the audit log", path: s.path, err: fmt.Errorf("%s already exists", name)}
	}
	if err := os.Rename(s.path, name); err != nil {
		return &fileError{op: "rotate the audit log", path: s.path, err: err}
	}
	f, err := openLog(s.path, true)
	if err != nil {
		return &fileError{op: "create a new audit log after rotation", path: s.path, err: err}
	}
	s.swap(f)
	_ = writeHead(s.head, head{Seq: t.seq, Hash: t.hash, Size: 0})
	return nil
}

// syncLocked fsyncs the log and remembers a failure for Status.
func (s *Sink) syncLocked() {
	err := s.f.Sync()
	if err == nil && s.dirDirty {
		if err = syncDir(filepath.Dir(s.path)); err == nil {
			s.dirDirty = false
		}
	}
	if err != nil {
		s.syncErr = &fileError{op: "sync the audit log to disk", path: s.path, err: err}
		return
	}
	s.syncErr = nil
	s.dirty = false
}

// Status implements audit.Sink: a failed fsync stays reported until one
// succeeds.
func (s *Sink) Status() (pending, lost int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return 0, 0, s.syncErr
}

// Flush syncs the log to disk.
func (s *Sink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.dirty || s.dirDirty {
		s.syncLocked()
	}
	return s.syncErr
}

// Close syncs and closes the log.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.dirty || s.dirDirty {
		s.syncLocked()
	}
	s.closed = true
	return errors.Join(s.syncErr, s.f.Close(), s.head.Close())
}

// fileError is a failure of the file sink with what to do about it.
type fileError struct {
	op   string
	path string
	err  error
}

func (e *fileError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.path, e.err) }
func (e *fileError) Unwrap() error { return e.err }
func (e *fileError) Hint() string {
	switch {
	case errors.Is(e.err, fs.ErrPermission):
		return "make " + e.path + " writable by this user, or set [audit.file] path to a directory it owns"
	case isNoSpace(e.err):
		return "free disk space on the file system that holds " + e.path
	}
	return "run `cordon audit verify` to check the log; if the file is damaged, move it aside and cordon starts a new one"
}
