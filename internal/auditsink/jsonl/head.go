package jsonl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// The head record: {"seq":N,"hash":"...","size":BYTES} padded with spaces to
// headLen bytes, at offset 0 of <log>.head, rewritten after every append.
const headLen = 160

type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	Size int64  `json:"size"`
}

// readHead returns the head record and whether it is usable.
func readHead(f *os.File) (head, bool) {
	buf := make([]byte, headLen)
	n, _ := f.ReadAt(buf, 0)
	var h head
	if n == 0 || json.Unmarshal(bytes.TrimRight(buf[:n], " \n\x00"), &h) != nil {
		return head{}, false
	}
	if !isLowerHex([]byte(h.Hash)) || h.Size < 0 {
		return head{}, false
	}
	return h, true
}

func writeHead(f *os.File, h head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if len(b) > headLen-1 {
		return fmt.Errorf("head record too long (%d bytes)", len(b))
	}
	buf := bytes.Repeat([]byte(" "), headLen)
	copy(buf, b)
	buf[headLen-1] = '\n'
	_, err = f.WriteAt(buf, 0)
	return err
}

type lockTimeoutError struct {
	path    string
	timeout time.Duration
}

func (e *lockTimeoutError) Error() string {
	return fmt.Sprintf("could not lock %s within %s: another process holds it (a cordon process that is stopped or hung?)", e.path, e.timeout)
}

func (e *lockTimeoutError) Hint() string {
	return "find the process with `fuser " + e.path + "` (or lsof) and resume or end it"
}
