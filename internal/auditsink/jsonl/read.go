package jsonl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"
)

// Reader reads a log and its rotated files in chain order (ReadAll), then
// what is appended to it, across rotations (Follow). Lines are passed
// without their newline; an incomplete last line is held back until it is
// complete.
type Reader struct {
	path    string
	f       *os.File // the active log, once opened
	partial []byte
}

// NewReader returns a Reader for the log at path.
func NewReader(path string) *Reader { return &Reader{path: path} }

// ReadAll passes every line now in the rotated files and the log. It
// returns an error wrapping fs.ErrNotExist when there is neither.
func (r *Reader) ReadAll(fn func(line []byte) error) error {
	rotated, err := rotatedFiles(r.path)
	if err != nil {
		return err
	}
	for _, name := range rotated {
		if err := readWhole(name, fn); err != nil {
			return err
		}
	}
	f, err := os.Open(r.path)
	if errors.Is(err, fs.ErrNotExist) && len(rotated) > 0 {
		return nil // between a rotation's rename and the next write
	}
	if err != nil {
		return err
	}
	r.f = f
	// A rotation may have happened since the listing: read the files it
	// produced, unless one of them is the file just opened.
	later, err := rotatedFiles(r.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	for _, name := range later {
		if slices.Contains(rotated, name) {
			continue
		}
		if other, err := os.Stat(name); err == nil && os.SameFile(other, fi) {
			continue
		}
		if err := readWhole(name, fn); err != nil {
			return err
		}
	}
	r.partial, err = readLines(f, nil, fn)
	return err
}

// Follow passes lines as they are appended, polling every poll, until ctx
// ends (which is not an error). Call it after ReadAll.
func (r *Reader) Follow(ctx context.Context, poll time.Duration, fn func(line []byte) error) error {
	for {
		if r.f != nil {
			var err error
			if r.partial, err = readLines(r.f, r.partial, fn); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
		cur, err := os.Stat(r.path)
		if err != nil {
			continue // rotated away and not yet recreated
		}
		if r.f != nil {
			if old, err := r.f.Stat(); err == nil && os.SameFile(cur, old) {
				continue
			}
			// Rotated: finish the old file, then switch.
			if r.partial, err = readLines(r.f, r.partial, fn); err != nil {
				return err
			}
			r.f.Close()
		}
		if r.f, err = os.Open(r.path); err != nil {
			r.f = nil
			continue
		}
		r.partial = nil
	}
}

// Close releases the open log.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}

func readWhole(name string, fn func([]byte) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	partial, err := readLines(f, nil, fn)
	if err == nil && len(partial) > 0 {
		err = fn(partial) // a closed file's torn end is still a line
	}
	return err
}

// readLines reads f from its current offset to EOF, calling fn for each
// complete line, and returns the incomplete rest, prefixed by partial.
func readLines(f *os.File, partial []byte, fn func([]byte) error) ([]byte, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			partial = append(partial, chunk...)
			continue
		}
		if errors.Is(err, io.EOF) {
			return append(partial, chunk...), nil
		}
		if err != nil {
			return partial, err
		}
		line := chunk[:len(chunk)-1]
		if len(partial) > 0 {
			line = append(partial, line...)
			partial = nil
		}
		if err := fn(bytes.Clone(line)); err != nil {
			return nil, err
		}
	}
}
