// Package wsframe holds the little of WebSocket (RFC 6455) that tests need
// to show that a connection was upgraded and carries frames both ways: the
// handshake's accept value and single, unfragmented frames. It is no
// WebSocket implementation: no fragmentation, no extensions, no checks
// beyond what the tests rely on.
package wsframe

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes (RFC 6455 section 5.2).
const (
	Text  = 0x1
	Close = 0x8
)

// MaxPayload bounds what ReadFrame accepts; tests send short frames.
const MaxPayload = 1 << 20

// NewKey returns a fresh Sec-WebSocket-Key.
func NewKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Accept is the Sec-WebSocket-Accept a server answers key with.
func Accept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Write writes one final frame. A client masks its frames (masked true),
// a server does not.
func Write(w io.Writer, opcode byte, payload []byte, masked bool) error {
	hdr := []byte{0x80 | opcode&0x0f}
	var mbit byte
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, mbit|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, mbit|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, mbit|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	body := payload
	if masked {
		var key [4]byte
		rand.Read(key[:])
		hdr = append(hdr, key[:]...)
		body = make([]byte, len(payload))
		for i, b := range payload {
			body[i] = b ^ key[i%4]
		}
	}
	_, err := w.Write(append(hdr, body...))
	return err
}

// Read reads one frame and returns its opcode, its unmasked payload and
// whether it was masked. Fragments (FIN clear) are refused.
func Read(r io.Reader) (opcode byte, payload []byte, masked bool, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return 0, nil, false, err
	}
	if h[0]&0x80 == 0 {
		return 0, nil, false, errors.New("wsframe: a fragmented frame")
	}
	opcode, masked = h[0]&0x0f, h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return 0, nil, false, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return 0, nil, false, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > MaxPayload {
		return 0, nil, false, fmt.Errorf("wsframe: a frame of %d bytes", n)
	}
	var key [4]byte
	if masked {
		if _, err = io.ReadFull(r, key[:]); err != nil {
			return 0, nil, false, err
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return 0, nil, false, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return opcode, payload, masked, nil
}
