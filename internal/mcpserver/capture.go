package mcpserver

import (
	"fmt"
	"sync"
)

// capture keeps at most limit bytes of a stream: the first half and the
// last half, so that both how a command started and how it ended (where
// errors usually are) reach the agent. It counts everything it was given.
type capture struct {
	mu    sync.Mutex
	limit int
	head  []byte
	tail  []byte // a ring buffer once full
	next  int    // where the ring writes next
	total int64
}

func newCapture(limit int) *capture {
	if limit < 2 {
		limit = 2
	}
	return &capture{limit: limit}
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	c.total += int64(n)
	headMax := c.limit / 2
	if len(c.head) < headMax {
		k := min(headMax-len(c.head), len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	tailMax := c.limit - headMax
	for len(p) > 0 {
		if len(c.tail) < tailMax {
			k := min(tailMax-len(c.tail), len(p))
			c.tail = append(c.tail, p[:k]...)
			p = p[k:]
			continue
		}
		if len(p) >= tailMax {
			// Only the last tailMax bytes of p can survive.
			copy(c.tail, p[len(p)-tailMax:])
			c.next = 0
			break
		}
		k := copy(c.tail[c.next:], p)
		c.next = (c.next + k) % tailMax
		p = p[k:]
	}
	return n, nil
}

// size is how many bytes the stream carried so far.
func (c *capture) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// result returns the kept text, with a marker where bytes were cut, and how
// many bytes were cut.
func (c *capture) result(stream string) (string, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tail := append(append([]byte(nil), c.tail[c.next:]...), c.tail[:c.next]...)
	cut := c.total - int64(len(c.head)) - int64(len(tail))
	if cut <= 0 {
		return string(c.head) + string(tail), 0
	}
	marker := fmt.Sprintf("\n[cordon: %d bytes of %s cut here; the command wrote %d bytes and at most %d are returned]\n",
		cut, stream, c.total, c.limit)
	return string(c.head) + marker + string(tail), cut
}
