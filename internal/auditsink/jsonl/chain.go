package jsonl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"

	"github.com/cordon-sandbox/cordon/audit"
)

// A line is B + `,"hash":"` + hex(SHA-256(B)) + `"}` + "\n", where B is the
// event's JSON object (with seq and prev, without hash) minus its final '}'.
const (
	hashMember = `,"hash":"`
	hashLen    = 64
	// suffixLen is the length of `,"hash":"<64 hex>"}`.
	suffixLen = len(hashMember) + hashLen + len(`"}`)
)

// seal serialises ev as the chain event at seq following prev and returns
// the line (with its newline) and the event's hash. ev is not modified.
func seal(ev *audit.Event, seq uint64, prev string) (line []byte, hash string, err error) {
	e := *ev
	e.Seq, e.Prev, e.Hash = seq, prev, ""
	obj, err := e.MarshalJSON()
	if err != nil {
		return nil, "", err
	}
	body := obj[:len(obj)-1]
	sum := sha256.Sum256(body)
	hash = hex.EncodeToString(sum[:])
	line = make([]byte, 0, len(body)+suffixLen+1)
	line = append(line, body...)
	line = append(line, hashMember...)
	line = append(line, hash...)
	line = append(line, `"}`...)
	line = append(line, '\n')
	return line, hash, nil
}

// splitLine splits a line (without newline) into the hashed body and the
// stored hash. ok is false when the line does not end with a well-formed
// hash member, which is what an incomplete line looks like.
func splitLine(line []byte) (body []byte, stored string, ok bool) {
	if len(line) < suffixLen+2 || !isHashSuffix(line[len(line)-suffixLen:]) {
		return nil, "", false
	}
	i := len(line) - suffixLen
	return line[:i], string(line[i+len(hashMember) : len(line)-2]), true
}

// isHashSuffix reports whether b is exactly `,"hash":"<64 lowercase hex>"}`.
func isHashSuffix(b []byte) bool {
	return len(b) == suffixLen &&
		bytes.HasPrefix(b, []byte(hashMember)) &&
		bytes.HasSuffix(b, []byte(`"}`)) &&
		isLowerHex(b[len(hashMember):len(b)-2])
}

func isLowerHex(b []byte) bool {
	if len(b) != hashLen {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// chainHeader is what the chain needs from a line.
type chainHeader struct {
	Seq  uint64     `json:"seq"`
	Prev string     `json:"prev"`
	Kind audit.Kind `json:"kind"`
	// Recovery payload, read only for recovery events.
	TornBytes  int64  `json:"torn_bytes"`
	TornSHA256 string `json:"torn_sha256"`
}

func parseHeader(body []byte) (chainHeader, error) {
	var h chainHeader
	// body lacks the final '}'; the decoder only needs a complete object.
	obj := make([]byte, 0, len(body)+1)
	obj = append(append(obj, body...), '}')
	if err := json.Unmarshal(obj, &h); err != nil {
		return h, err
	}
	if h.Seq == 0 {
		return h, errors.New("no seq")
	}
	return h, nil
}

// tip is the end of the chain as a writer needs it.
type tip struct {
	seq  uint64
	hash string
	size int64 // bytes in the active file
	// tornStart..tornEnd is data after the last event that is not an event
	// (an incomplete line left by a killed writer), tornStart < 0 if none.
	tornStart, tornEnd int64
	// endsInNewline: the file is empty or its last byte is '\n'.
	endsInNewline bool
}

// lastEventStart returns the offset where the last line with a well-formed
// hash member begins, searching backwards from end, or -1 if there is none.
func lastEventStart(f io.ReaderAt, end int64) (int64, error) {
	lineEnd := end
	// Skip a final newline: the search is for lines before it.
	if end > 0 {
		var b [1]byte
		if _, err := f.ReadAt(b[:], end-1); err != nil {
			return -1, err
		}
		if b[0] == '\n' {
			lineEnd = end - 1
		}
	}
	for lineEnd > 0 {
		nl, err := lastByteBefore(f, lineEnd, '\n')
		if err != nil {
			return -1, err
		}
		start := nl + 1
		if lineEnd-start >= int64(suffixLen+2) {
			tail := make([]byte, suffixLen)
			if _, err := f.ReadAt(tail, lineEnd-int64(suffixLen)); err != nil {
				return -1, err
			}
			if isHashSuffix(tail) {
				return start, nil
			}
		}
		if nl < 0 {
			break
		}
		lineEnd = nl
	}
	return -1, nil
}

// lastByteBefore returns the offset of the last c before pos, or -1.
func lastByteBefore(f io.ReaderAt, pos int64, c byte) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for pos > 0 {
		n := int64(chunk)
		if pos < n {
			n = pos
		}
		b := buf[:n]
		if _, err := f.ReadAt(b, pos-n); err != nil && !errors.Is(err, io.EOF) {
			return -1, err
		}
		if i := bytes.LastIndexByte(b, c); i >= 0 {
			return pos - n + int64(i), nil
		}
		pos -= n
	}
	return -1, nil
}

// scanFrom reads the file from start to size and advances t over every
// event line found; data that is not an event marks a torn region.
func scanFrom(f *os.File, start, size int64, t *tip) error {
	t.tornStart, t.tornEnd = -1, -1
	if start >= size {
		return nil
	}
	data := make([]byte, size-start)
	if _, err := f.ReadAt(data, start); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	off := start
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line = data[:i]
		}
		body, stored, ok := splitLine(line)
		var h chainHeader
		var err error
		if ok && i >= 0 {
			h, err = parseHeader(body)
		}
		if ok && i >= 0 && err == nil {
			t.seq, t.hash = h.Seq, stored
			t.tornStart, t.tornEnd = -1, -1
		} else {
			if t.tornStart < 0 {
				t.tornStart = off
			}
			t.tornEnd = off + int64(len(line))
		}
		if i < 0 {
			break
		}
		off += int64(i) + 1
		data = data[i+1:]
	}
	return nil
}

// lastEventOf returns the seq and hash of the last event in a closed file.
func lastEventOf(path string) (seq uint64, hash string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	start, err := lastEventStart(f, fi.Size())
	if err != nil || start < 0 {
		return 0, "", err
	}
	var t tip
	if err := scanFrom(f, start, fi.Size(), &t); err != nil {
		return 0, "", err
	}
	return t.seq, t.hash, nil
}
