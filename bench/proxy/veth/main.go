//go:build linux

// Command veth measures the throughput of a bulk TCP transfer direct to a
// sink and through cordon's proxy (netproxy.Server, CONNECT over TCP and over
// a unix socket, the sandbox's path), side by side and interleaved so that
// the routes share the machine's noise, and the CPU time the proxy, the sink
// and the client spend per GiB. The proxy and the sink run in processes of
// their own, so that each one's CPU time is its own (getrusage of the
// process, user and system).
//
// bench/proxy/veth.sh puts the sink in a network namespace behind a veth
// pair, limits the link with tc, and runs this once per link; on its own,
// without -netns, everything stays on loopback:
//
//	veth [-netns NS] [-sink-ip IP] [-bytes N] [-count N] [-dir up,down] [-label L]
//
// The roles "sink" and "proxy" are this binary started again by itself.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cordon-sandbox/cordon/internal/netproxy"
)

const (
	gib      = 1 << 30
	chunk    = 256 << 10
	opUp     = 'u' // the client sends N bytes, the sink answers the count
	opDown   = 'd' // the sink sends N bytes and closes
	hdrBytes = 9   // op, then N as a big-endian uint64
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("veth: ")
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "sink":
			sinkMain(os.Args[2:])
			return
		case "proxy":
			proxyMain(os.Args[2:])
			return
		}
	}
	driverMain()
}

// cpuNow is this process's CPU time so far, user and system. getrusage
// reports the kernel's precise run time of all threads, dead ones included,
// split between user and system by the tick samples.
func cpuNow() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// serveControl answers each line on stdin with "cpu USER_NS SYS_NS" and
// exits when stdin ends, so that a child never outlives its driver.
func serveControl() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		u, s := cpuNow()
		fmt.Printf("cpu %d %d\n", u.Nanoseconds(), s.Nanoseconds())
	}
	os.Exit(0)
}

func sinkMain(args []string) {
	fs := flag.NewFlagSet("sink", flag.ExitOnError)
	addr := fs.String("listen", "127.0.0.1:0", "address to listen on")
	fs.Parse(args)
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("sink: %v", err)
	}
	fmt.Printf("ready %s\n", l.Addr())
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				log.Fatalf("sink: accept: %v", err)
			}
			go sinkConn(c.(*net.TCPConn))
		}
	}()
	serveControl()
}

func sinkConn(c *net.TCPConn) {
	defer c.Close()
	var hdr [hdrBytes]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		log.Printf("sink: reading the header: %v", err)
		return
	}
	n := binary.BigEndian.Uint64(hdr[1:])
	buf := make([]byte, chunk)
	switch hdr[0] {
	case opUp:
		var got uint64
		for {
			k, err := c.Read(buf)
			got += uint64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				log.Printf("sink: reading: %v", err)
				return
			}
		}
		binary.BigEndian.PutUint64(hdr[1:], got)
		c.Write(hdr[1:])
	case opDown:
		for sent := uint64(0); sent < n; {
			b := buf[:min(uint64(len(buf)), n-sent)]
			k, err := c.Write(b)
			sent += uint64(k)
			if err != nil {
				log.Printf("sink: writing: %v", err)
				return
			}
		}
		c.CloseWrite()
		io.Copy(io.Discard, c) // the client's close ends the connection
	}
}

func proxyMain(args []string) {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	allow := fs.String("allow", "", "the sink's IP:PORT, the only destination allowed")
	unixPath := fs.String("unix", "", "unix socket to listen on besides 127.0.0.1")
	fs.Parse(args)
	// The sink is a raw TCP destination on a private or loopback address:
	// the tcp list takes an IP literal and allows it whatever its range,
	// as a policy's network.tcp = ["10.0.0.5:5432"] would.
	s, err := netproxy.New(netproxy.Config{Mode: netproxy.ModeProxy, TCP: []string{*allow}}, netproxy.Options{})
	if err != nil {
		log.Fatalf("proxy: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("proxy: %v", err)
	}
	ul, err := netproxy.ListenUnix(*unixPath)
	if err != nil {
		log.Fatalf("proxy: %v", err)
	}
	go s.Serve(l)
	go s.Serve(ul)
	fmt.Printf("ready %s %s\n", l.Addr(), *unixPath)
	serveControl()
}

// child is a sink or proxy process with its control pipes.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	ready []string // the words after "ready"
}

func startChild(argv ...string) *child {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		log.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatalf("starting %s: %v", strings.Join(argv, " "), err)
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewReader(outPipe)}
	line, err := c.out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		log.Fatalf("%s did not start (%q, %v)", strings.Join(argv, " "), line, err)
	}
	c.ready = strings.Fields(line)[1:]
	return c
}

func (c *child) cpu() time.Duration {
	if _, err := io.WriteString(c.in, "cpu\n"); err != nil {
		log.Fatalf("asking a child for its CPU time: %v", err)
	}
	line, err := c.out.ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "cpu" {
		log.Fatalf("a child answered %q, %v", line, err)
	}
	u, _ := strconv.ParseInt(f[1], 10, 64)
	s, _ := strconv.ParseInt(f[2], 10, 64)
	return time.Duration(u + s)
}

func (c *child) stop() {
	c.in.Close()
	c.cmd.Wait()
}

type route struct {
	name    string
	proxied bool
	dial    func() (net.Conn, error)
}

// connectVia opens a CONNECT tunnel to target through the proxy at addr and
// returns the bare connection: the answer is read byte by byte so that none
// of the tunnel's bytes stays in a buffer.
func connectVia(network, addr, target string) (net.Conn, error) {
	c, err := net.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	var resp []byte
	one := make([]byte, 1)
	for !strings.HasSuffix(string(resp), "\r\n\r\n") {
		if _, err := io.ReadFull(c, one); err != nil {
			c.Close()
			return nil, fmt.Errorf("reading the CONNECT answer: %w", err)
		}
		if resp = append(resp, one[0]); len(resp) > 4096 {
			c.Close()
			return nil, errors.New("CONNECT answer too long")
		}
	}
	if status := strings.SplitN(string(resp), "\r\n", 2)[0]; !strings.HasPrefix(status, "HTTP/1.1 200") {
		c.Close()
		return nil, fmt.Errorf("CONNECT %s: %s", target, status)
	}
	return c, nil
}

// transfer moves n bytes over one new connection in direction op and
// returns the time from dial to the last byte confirmed.
func transfer(r route, op byte, n uint64, buf []byte) (time.Duration, error) {
	start := time.Now()
	c, err := r.dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var hdr [hdrBytes]byte
	hdr[0] = op
	binary.BigEndian.PutUint64(hdr[1:], n)
	if _, err := c.Write(hdr[:]); err != nil {
		return 0, err
	}
	switch op {
	case opUp:
		for sent := uint64(0); sent < n; {
			k, err := c.Write(buf[:min(uint64(len(buf)), n-sent)])
			sent += uint64(k)
			if err != nil {
				return 0, err
			}
		}
		if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
			return 0, err
		}
		var ack [8]byte
		if _, err := io.ReadFull(c, ack[:]); err != nil {
			return 0, fmt.Errorf("reading the sink's count: %w", err)
		}
		if got := binary.BigEndian.Uint64(ack[:]); got != n {
			return 0, fmt.Errorf("the sink got %d bytes of %d", got, n)
		}
	case opDown:
		var got uint64
		for {
			k, err := c.Read(buf)
			got += uint64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				return 0, err
			}
		}
		if got != n {
			return 0, fmt.Errorf("got %d bytes of %d", got, n)
		}
	}
	return time.Since(start), nil
}

// sample is one transfer's results; CPU times are per GiB.
type sample struct {
	mbps                float64 // 10^6 bytes per second
	proxy, sink, client float64 // CPU-seconds per GiB
}

func (s sample) total() float64 { return s.proxy + s.sink + s.client }

func driverMain() {
	netns := flag.String("netns", "", "network namespace to run the sink in (default: this one, on loopback)")
	sinkIP := flag.String("sink-ip", "127.0.0.1", "address the sink listens on")
	size := flag.String("bytes", "1GiB", "bytes per transfer (suffix KiB, MiB or GiB)")
	count := flag.Int("count", 5, "transfers per route and direction")
	dirs := flag.String("dir", "up,down", "directions: up (client to sink), down (sink to client)")
	label := flag.String("label", "loopback", "name of this link in the report")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil {
		log.Fatalf("-bytes: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "cordon-veth-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	sinkArgv := []string{self, "sink", "-listen", net.JoinHostPort(*sinkIP, "0")}
	if *netns != "" {
		// ip netns exec execs the command after entering the namespace:
		// the child is the sink itself, and its rusage is the sink's.
		sinkArgv = append([]string{"ip", "netns", "exec", *netns}, sinkArgv...)
	}
	sink := startChild(sinkArgv...)
	defer sink.stop()
	sinkAddr := sink.ready[0]
	proxy := startChild(self, "proxy", "-allow", sinkAddr, "-unix", filepath.Join(tmp, "proxy.sock"))
	defer proxy.stop()
	proxyTCP, proxyUnix := proxy.ready[0], proxy.ready[1]

	routes := []route{
		{"direct", false, func() (net.Conn, error) { return net.Dial("tcp", sinkAddr) }},
		{"connect", true, func() (net.Conn, error) { return connectVia("tcp", proxyTCP, sinkAddr) }},
		{"connect-unix", true, func() (net.Conn, error) { return connectVia("unix", proxyUnix, sinkAddr) }},
	}
	var ops []byte
	for _, d := range strings.Split(*dirs, ",") {
		switch d {
		case "up":
			ops = append(ops, opUp)
		case "down":
			ops = append(ops, opDown)
		default:
			log.Fatalf("-dir: %q is neither up nor down", d)
		}
	}

	buf := make([]byte, chunk)
	// One short transfer per route first: connections, buffers and the
	// proxy's goroutines are warm before anything is measured.
	for _, r := range routes {
		for _, op := range ops {
			if _, err := transfer(r, op, 16<<20, buf); err != nil {
				log.Fatalf("%s: warm-up %s: %v", *label, r.name, err)
			}
		}
	}
	perGiB := func(d time.Duration) float64 { return d.Seconds() * gib / float64(n) }
	results := map[string][]sample{}
	for rep := range *count {
		for _, op := range ops {
			// Rotate the order every run so that no route is always first
			// after the other direction or last before it.
			for i := range routes {
				r := routes[(i+rep)%len(routes)]
				p0, s0 := proxy.cpu(), sink.cpu()
				cu0, cs0 := cpuNow()
				d, err := transfer(r, op, n, buf)
				if err != nil {
					log.Fatalf("%s: %s %s: %v", *label, dirName(op), r.name, err)
				}
				cu1, cs1 := cpuNow()
				p1, s1 := proxy.cpu(), sink.cpu()
				smp := sample{
					mbps:   float64(n) / d.Seconds() / 1e6,
					proxy:  perGiB(p1 - p0),
					sink:   perGiB(s1 - s0),
					client: perGiB(cu1 - cu0 + cs1 - cs0),
				}
				key := dirName(op) + " " + r.name
				results[key] = append(results[key], smp)
				fmt.Fprintf(os.Stderr, "  %s run %d: %-4s %-12s %7.1f MB/s  CPU-s/GiB proxy %.3f sink %.3f client %.3f\n",
					*label, rep+1, dirName(op), r.name, smp.mbps, smp.proxy, smp.sink, smp.client)
			}
		}
	}

	// "of direct" compares the medians; "paired" is the median of each
	// run's ratio to the direct transfer of the same run, taken moments
	// apart, which drifts in the machine's load disturb less. "total" is
	// the three processes together; what the proxied routes add to it over
	// direct is the cost of proxying even where the kernel charges network
	// work done for one process to another (see veth.sh).
	fmt.Printf("%s: %s per transfer, %d runs per route, medians; CPU in CPU-seconds (user + system) per GiB:\n", *label, *size, *count)
	fmt.Printf("  %-4s %-12s %8s %7s %9s %7s  %6s %6s %6s %6s %7s\n", "dir", "route", "MB/s", "Mbit/s", "of direct", "paired", "proxy", "sink", "client", "total", "added")
	for _, op := range ops {
		direct := results[dirName(op)+" direct"]
		dm := median(direct, func(s sample) float64 { return s.mbps })
		dt := median(direct, sample.total)
		for _, r := range routes {
			ss := results[dirName(op)+" "+r.name]
			m := median(ss, func(s sample) float64 { return s.mbps })
			ratios := make([]sample, len(ss))
			for i := range ss {
				ratios[i].mbps = ss[i].mbps / direct[i].mbps
			}
			proxyCPU, added := "-", "-"
			if r.proxied {
				proxyCPU = fmt.Sprintf("%.3f", median(ss, func(s sample) float64 { return s.proxy }))
				added = fmt.Sprintf("%+.3f", median(ss, sample.total)-dt)
			}
			fmt.Printf("  %-4s %-12s %8.1f %7.0f %8.1f%% %6.1f%%  %6s %6.3f %6.3f %6.3f %7s\n",
				dirName(op), r.name, m, m*8, 100*m/dm, 100*median(ratios, func(s sample) float64 { return s.mbps }),
				proxyCPU, median(ss, func(s sample) float64 { return s.sink }), median(ss, func(s sample) float64 { return s.client }),
				median(ss, sample.total), added)
		}
	}
}

func dirName(op byte) string {
	if op == opUp {
		return "up"
	}
	return "down"
}

func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func parseSize(s string) (uint64, error) {
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"GiB", gib}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"", 1}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseUint(num, 10, 64)
			if err != nil || v == 0 {
				return 0, fmt.Errorf("%q is not a positive size such as 512MiB", s)
			}
			return v * u.mult, nil
		}
	}
	panic("unreachable")
}
