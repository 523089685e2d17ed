//go:build linux

package main

import (
	"encoding/binary"
	"net"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }

// raceCreate calls open(O_CREAT) on a path buffer that another thread keeps
// flipping between an ordinary name and a protected one, n times: a
// supervisor that checked the path and then let the kernel read it again
// would create the protected name sooner or later.
func raceCreate(dir, allowed, protected string, n int) error {
	// Only the last component is rewritten: a name torn between the two
	// (the flipper is halfway through) is still one in dir. Rewriting the
	// whole path let the baseline create files named after a prefix of
	// dir in its parent (/var/tmp/cordon-escape-1234, empty).
	prefix := len(dir) + 1
	size := prefix + max(len(allowed), len(protected)) + 1
	buf := make([]byte, size)
	copy(buf, dir+"/"+allowed)
	a, p := []byte(allowed+"\x00"), []byte(protected+"\x00")
	f := startFlipper(func(i int) {
		if i%2 == 0 {
			copy(buf[prefix:], p)
		} else {
			copy(buf[prefix:], a)
		}
	})
	defer f.stop()
	for i := 0; f.more(i, n); i++ {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&buf[0])), unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644, 0, 0)
		if e == 0 {
			unix.Close(int(fd))
		}
	}
	return nil
}

// raceConnect connects n times to a unix socket address whose path another
// thread keeps flipping between a socket in the workspace (which it serves
// itself) and one outside.
func raceConnect(allowed, outside string, n int) error {
	l, err := net.Listen("unix", allowed)
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	mk := func(p string) []byte {
		b := make([]byte, 110)
		binary.LittleEndian.PutUint16(b, unix.AF_UNIX)
		copy(b[2:], p)
		return b
	}
	a, o := mk(allowed), mk(outside)
	buf := make([]byte, 110)
	copy(buf, a)
	f := startFlipper(func(i int) {
		if i%2 == 0 {
			copy(buf, o)
		} else {
			copy(buf, a)
		}
	})
	defer f.stop()
	for i := 0; f.more(i, n); i++ {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if _, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf))); e == 0 {
			unix.Write(fd, []byte("ESCAPED"))
		}
		unix.Close(fd)
	}
	return nil
}

// openat2Create creates path with openat2(2), whose flags a seccomp filter
// cannot see.
func openat2Create(path string) error {
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY | unix.O_CLOEXEC, Mode: 0o644})
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// atFDCWD is AT_FDCWD as a system call argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

// A flipper calls flip(0), flip(1), ... on another thread until stopped,
// counting the calls. A race is only tried while the flipper runs at the
// same time: on a loaded machine its thread may be off the CPU during many
// fast system calls, and a baseline that never raced would fail, and a
// sandboxed run would pass, for that reason alone.
type flipper struct {
	flips atomic.Int64
	done  chan struct{}
	last  int64 // flips when more was last called
	moved int   // attempts made while the flipper moved
}

// startFlipper returns once the first flip is done (or after 10 s).
func startFlipper(flip func(i int)) *flipper {
	f := &flipper{done: make(chan struct{})}
	go func() {
		for i := 0; ; i++ {
			select {
			case <-f.done:
				return
			default:
			}
			flip(i)
			f.flips.Add(1)
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); f.flips.Load() == 0 && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	return f
}

// more reports whether attempt i is still wanted: the first n always, and
// more (up to 50n) until n/4 attempts were made while the flipper moved.
// Where both threads run at once, nearly every attempt is such a one.
func (f *flipper) more(i, n int) bool {
	if c := f.flips.Load(); c != f.last {
		f.moved++
		f.last = c
	}
	return i < n || (i < 50*n && f.moved < n/4)
}

func (f *flipper) stop() { close(f.done) }
