package mcpserver

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

func TestCaptureKeepsHeadAndTail(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 37, 1000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte('a' + i%26)
		}
		// However the stream is chunked, the result is the same.
		rng := rand.New(rand.NewSource(int64(n)))
		for trial := 0; trial < 20; trial++ {
			c := newCapture(10)
			rest := data
			for len(rest) > 0 {
				k := 1 + rng.Intn(len(rest))
				c.Write(rest[:k])
				rest = rest[k:]
			}
			got, cut := c.result("stdout")
			if c.size() != int64(n) {
				t.Fatalf("size %d, want %d", c.size(), n)
			}
			if n <= 10 {
				if got != string(data) || cut != 0 {
					t.Fatalf("n=%d: %q cut %d", n, got, cut)
				}
				continue
			}
			want := string(data[:5]) + fmt.Sprintf("\n[cordon: %d bytes of stdout cut here; the command wrote %d bytes and at most 10 are returned]\n", n-10, n) + string(data[n-5:])
			if got != want || cut != int64(n-10) {
				t.Fatalf("n=%d trial %d:\n got %q\nwant %q", n, trial, got, want)
			}
		}
	}
}

func TestCaptureOddLimit(t *testing.T) {
	c := newCapture(7)
	c.Write(bytes.Repeat([]byte("x"), 3))
	c.Write([]byte("0123456789"))
	got, cut := c.result("stderr")
	if cut != 6 || !strings.HasPrefix(got, "xxx") || !strings.HasSuffix(got, "6789") {
		t.Errorf("%q cut %d", got, cut)
	}
}
