package netproxy

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// tunnel copies bytes both ways until both directions are done, after first
// sending pending (bytes the client sent right behind its request, already
// buffered). The copies run on the connections themselves, not on wrappers,
// so that io.Copy between *net.TCPConn and *net.UnixConn can use splice(2)
// on Linux and the data never enters user space.
func tunnel(client, upstream net.Conn, pending []byte) (sent, received int64) {
	if len(pending) > 0 {
		n, err := upstream.Write(pending)
		sent += int64(n)
		if err != nil {
			return sent, 0
		}
	}
	var wg sync.WaitGroup
	var up int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, err := io.Copy(upstream, client)
		up = n
		endDirection(upstream, client, err)
	}()
	received, err := io.Copy(client, upstream)
	endDirection(client, upstream, err)
	wg.Wait()
	return sent + up, received
}

type closeWriter interface {
	CloseWrite() error
}

// endDirection passes a clean end of stream on as a half-close, so that a
// client that shuts down its sending side still gets the answer. On an error,
// or when half-close is impossible, both connections are closed so the other
// direction ends too.
func endDirection(dst, src net.Conn, err error) {
	if err == nil {
		if cw, ok := dst.(closeWriter); ok && cw.CloseWrite() == nil {
			return
		}
	}
	dst.Close()
	src.Close()
}

// clientReader reads a client's request. Its 64 KiB buffer comes from a
// pool and goes back as soon as a tunnel starts, so that a thousand open
// tunnels do not hold a thousand header buffers.
type clientReader struct {
	*bufio.Reader
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, maxHeaderBytes) }}

func newClientReader(c net.Conn) *clientReader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(c)
	return &clientReader{br}
}

// detach returns a copy of the bytes the client sent beyond its request
// (a TLS hello sent right behind CONNECT) and gives the buffer back. The
// reader must not be used afterwards.
func (r *clientReader) detach() []byte {
	b, _ := r.Peek(r.Buffered())
	pending := append([]byte(nil), b...)
	r.release()
	return pending
}

func (r *clientReader) release() {
	if r.Reader != nil {
		r.Reset(nil)
		readerPool.Put(r.Reader)
		r.Reader = nil
	}
}

// countingConn counts the bytes of a connection that must be wrapped anyway
// (plain HTTP forwarding goes through net/http, which cannot splice).
type countingConn struct {
	net.Conn
	read, written atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}
