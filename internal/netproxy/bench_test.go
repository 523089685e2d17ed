package netproxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The benchmarks compare the proxy with a direct connection on loopback, in
// one run (bench/proxy/run.sh prints the ratios):
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/netproxy/
//
// Throughput moves 1 GiB per iteration; Latency opens 1,000 short
// connections one after another per iteration; Concurrent holds 1,000
// tunnels open at once and fails on any error.

const (
	benchBytes = 1 << 30
	benchConns = 1000
)

// benchSink reads everything a connection sends with a large buffer and
// answers "done" at the end, or echoes one byte when asked to.
func benchSink(b *testing.B) (port int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 256<<10)
				for {
					n, err := c.Read(buf)
					if n == 1 && buf[0] == '?' {
						c.Write(buf[:1]) // latency probe
						continue
					}
					if err != nil {
						if err == io.EOF {
							io.WriteString(c, "done")
						}
						return
					}
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

type benchRoute struct {
	name string
	dial func(port int) (net.Conn, error)
}

// benchRoutes starts a proxy that allows sink.test (mapped to 127.0.0.1) on
// the sink's port and returns the ways to reach the sink: directly, and
// through the proxy by CONNECT over TCP and over a unix socket (the
// sandbox's path), and by SOCKS5.
func benchRoutes(b *testing.B, sinkPort int) []benchRoute {
	resolver := newResolver()
	resolver.addrs["sink.test"] = resolver.addrs["allowed.test"]
	s, err := New(Config{Mode: ModeProxy, AllowPrivate: []string{"sink.test:" + strconv.Itoa(sinkPort)}}, Options{Resolver: resolver})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	unixPath := b.TempDir() + "/proxy.sock"
	ul, err := ListenUnix(unixPath)
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(l)
	go s.Serve(ul)
	b.Cleanup(func() { s.Close() })
	proxyAddr := l.Addr().String()

	connect := func(network, addr string) func(port int) (net.Conn, error) {
		return func(port int) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(c, "CONNECT sink.test:%d HTTP/1.1\r\nHost: sink.test:%d\r\n\r\n", port, port)
			// Read the answer byte by byte so that nothing of the tunnel
			// is left in a buffer: the caller uses the bare connection.
			resp, err := http.ReadResponse(bufio.NewReaderSize(oneByteReader{c}, 16), &http.Request{Method: http.MethodConnect})
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("CONNECT: %s", resp.Status)
			}
			if err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		}
	}
	return []benchRoute{
		{"direct", func(port int) (net.Conn, error) { return net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)) }},
		{"connect", connect("tcp", proxyAddr)},
		{"connect-unix", connect("unix", unixPath)},
		{"socks5", func(port int) (net.Conn, error) {
			return DialVia(context.Background(), &url.URL{Scheme: "socks5h", Host: proxyAddr}, "sink.test", port)
		}},
	}
}

// oneByteReader reads one byte at a time, so a bufio.Reader on top of it
// never reads past what the caller consumes.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) { return o.r.Read(p[:1]) }

func BenchmarkThroughput(b *testing.B) {
	port := benchSink(b)
	chunk := make([]byte, 256<<10)
	for _, route := range benchRoutes(b, port) {
		b.Run(route.name, func(b *testing.B) {
			b.SetBytes(benchBytes)
			cpu0, cpuOK := processCPU()
			for range b.N {
				c, err := route.dial(port)
				if err != nil {
					b.Fatal(err)
				}
				for sent := 0; sent < benchBytes; sent += len(chunk) {
					if _, err := c.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				c.(closeWriter).CloseWrite()
				done, err := io.ReadAll(c)
				if err != nil || string(done) != "done" {
					b.Fatalf("sink answered %q, %v", done, err)
				}
				c.Close()
			}
			if cpu1, ok := processCPU(); ok && cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/float64(b.N), "CPU-ms/GiB")
			}
		})
	}
}

func BenchmarkLatency(b *testing.B) {
	port := benchSink(b)
	for _, route := range benchRoutes(b, port) {
		b.Run(route.name, func(b *testing.B) {
			one := make([]byte, 1)
			start := time.Now()
			for range b.N {
				for range benchConns {
					c, err := route.dial(port)
					if err != nil {
						b.Fatal(err)
					}
					c.Write([]byte{'?'})
					if _, err := io.ReadFull(c, one); err != nil {
						b.Fatal(err)
					}
					c.Close()
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*benchConns), "µs/conn")
		})
	}
}

func BenchmarkConcurrent(b *testing.B) {
	port := benchSink(b)
	for _, route := range benchRoutes(b, port) {
		if route.name == "direct" {
			continue
		}
		b.Run(route.name, func(b *testing.B) {
			for range b.N {
				conns := make([]net.Conn, benchConns)
				var wg sync.WaitGroup
				errs := make(chan error, benchConns)
				for i := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c, err := route.dial(port)
						if err != nil {
							errs <- err
							return
						}
						conns[i] = c
						c.Write([]byte{'?'})
						one := make([]byte, 1)
						if _, err := io.ReadFull(c, one); err != nil {
							errs <- err
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatalf("opening 1,000 concurrent tunnels: %v", err)
				}
				// All 1,000 are open at this point; check each once more.
				for _, c := range conns {
					c.Write([]byte{'?'})
				}
				one := make([]byte, 1)
				for _, c := range conns {
					if _, err := io.ReadFull(c, one); err != nil {
						b.Fatalf("a held connection failed: %v", err)
					}
					c.Close()
				}
			}
			b.ReportMetric(benchConns, "conns-held")
		})
	}
}
