package netproxy

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"
)

func TestReadSOCKSRequest(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		host string
		port int
		code int // -1: parsed; 0xff: read error without a reply code
	}{
		{"domain", []byte("\x05\x01\x00\x03\x0callowed.test\x01\xbb"), "allowed.test", 443, -1},
		{"domain with NUL", []byte("\x05\x01\x00\x03\x17evil.test\x00.allowed.test\x00\x16"), "evil.test\x00.allowed.test", 22, -1},
		{"ipv4", []byte{5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90}, "127.0.0.1", 8080, -1},
		{"ipv6", append(append([]byte{5, 1, 0, 4}, make([]byte, 15)...), 1, 0, 80), "::1", 80, -1},
		{"ipv4-mapped ipv6", append(append([]byte{5, 1, 0, 4}, []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x7f\x00\x00\x01")...), 0, 80), "::ffff:127.0.0.1", 80, -1},
		{"bind", []byte("\x05\x02\x00\x03\x01a\x00\x50"), "a", 80, socksCommandNotSupported},
		{"udp associate", []byte{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}, "0.0.0.0", 0, socksCommandNotSupported},
		{"unknown address type", []byte{5, 1, 0, 9, 1, 2, 3, 4, 0, 80}, "", 0, socksAddrNotSupported},
		{"version 4", []byte{4, 1, 0, 1, 1, 2, 3, 4, 0, 80}, "", 0, socksGeneralFailure},
		{"reserved byte set", []byte{5, 1, 1, 1, 1, 2, 3, 4, 0, 80}, "", 0, socksGeneralFailure},
		{"empty domain", []byte{5, 1, 0, 3, 0, 0, 80}, "", 0, socksGeneralFailure},
		{"truncated domain", []byte("\x05\x01\x00\x03\x0callowed"), "", 0, 0xff},
		{"truncated port", []byte{5, 1, 0, 1, 1, 2, 3, 4, 0}, "", 0, 0xff},
		{"empty", nil, "", 0, 0xff},
	}
	for _, tt := range tests {
		req, err := readSOCKSRequest(bytes.NewReader(tt.in))
		var se *socksError
		switch {
		case tt.code == -1 && err != nil:
			t.Errorf("%s: unexpected error %v", tt.name, err)
		case tt.code == -1 && (req.host != tt.host || req.port != tt.port):
			t.Errorf("%s: got %q:%d; want %q:%d", tt.name, req.host, req.port, tt.host, tt.port)
		case tt.code == 0xff && (err == nil || errors.As(err, &se)):
			t.Errorf("%s: got %v; want a plain read error", tt.name, err)
		case tt.code >= 0 && tt.code != 0xff && (!errors.As(err, &se) || int(se.code) != tt.code):
			t.Errorf("%s: got %v; want reply code %d", tt.name, err, tt.code)
		}
	}
}

// FuzzSOCKSRequest feeds arbitrary bytes to the request parser. Whatever it
// accepts must survive re-encoding with the same policy decision, and the
// decision must never come out as allowed for a host the rules do not name.
// The seeds in testdata/fuzz/FuzzSOCKSRequest run with every `go test`.
func FuzzSOCKSRequest(f *testing.F) {
	rules, err := Compile(Config{Mode: ModeProxy, Allow: []string{"allowed.test", "127.0.0.1:8080"}, TCP: []string{"git.test:22"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := readSOCKSRequest(bytes.NewReader(data))
		if err != nil {
			return
		}
		d := rules.Decide(req.host, req.port)
		if d.Verdict == Allow {
			hp := d.Host + ":" + strconv.Itoa(d.Port)
			if hp != "allowed.test:80" && hp != "allowed.test:443" && hp != "127.0.0.1:8080" && hp != "git.test:22" {
				t.Fatalf("request %q (host %q) allowed as %s", data, req.host, hp)
			}
		}
		enc, err := appendSOCKSRequest(nil, req.host, req.port)
		if err != nil {
			t.Fatalf("cannot re-encode host %q: %v", req.host, err)
		}
		again, err := readSOCKSRequest(io.MultiReader(bytes.NewReader(enc)))
		if err != nil {
			t.Fatalf("re-encoded request %q does not parse: %v", enc, err)
		}
		d2 := rules.Decide(again.host, again.port)
		if d2.Verdict != d.Verdict || d2.Host != d.Host || d2.Rule != d.Rule {
			t.Fatalf("host %q decided %v %q %q, re-encoded as %q decided %v %q %q",
				req.host, d.Verdict, d.Host, d.Rule, again.host, d2.Verdict, d2.Host, d2.Rule)
		}
	})
}
