//go:build linux

package unotify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Listener is a seccomp listener descriptor. Its methods may be called from
// several goroutines at once; the kernel hands each call to one receiver.
type Listener struct {
	f *os.File
}

// New wraps a listener returned by seccomp(2) with
// SECCOMP_FILTER_FLAG_NEW_LISTENER.
func New(f *os.File) *Listener { return &Listener{f: f} }

// Close closes the listener; calls still waiting fail with ENOSYS.
func (l *Listener) Close() error { return l.f.Close() }

// Call is one system call waiting for an answer.
type Call struct {
	ID uint64
	// TID is the calling thread, in the listener owner's PID namespace.
	TID  int
	Nr   int32
	Arch uint32
	Args [6]uint64
	l    *Listener
}

// Sizes of struct seccomp_notif, seccomp_notif_resp and seccomp_notif_addfd
// (include/uapi/linux/seccomp.h); the ioctl numbers encode them.
const (
	notifSize = 80
	respSize  = 24
	addfdSize = 24
)

// pidfdThread is PIDFD_THREAD (Linux 6.9): a pidfd for a thread, not only
// for a thread-group leader. It is O_EXCL's value.
const pidfdThread = unix.O_EXCL

// ErrGone means the caller is no longer waiting in the call (it died, or a
// fatal signal ended the call); there is nothing to answer.
var ErrGone = errors.New("unotify: the caller no longer waits in this call")

// Receive waits for the next call. It returns an error when the listener is
// closed or broken; a call whose caller vanished before it could be
// received is skipped.
func (l *Listener) Receive() (*Call, error) {
	var buf [notifSize]byte
	for {
		clear(buf[:])
		_, _, e := unix.Syscall(unix.SYS_IOCTL, l.f.Fd(), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&buf[0])))
		switch e {
		case 0:
		case unix.EINTR, unix.ENOENT:
			continue
		default:
			return nil, fmt.Errorf("unotify: receive: %w", e)
		}
		c := &Call{
			ID:   binary.LittleEndian.Uint64(buf[0:]),
			TID:  int(binary.LittleEndian.Uint32(buf[8:])),
			Nr:   int32(binary.LittleEndian.Uint32(buf[16:])),
			Arch: binary.LittleEndian.Uint32(buf[20:]),
			l:    l,
		}
		for i := range c.Args {
			c.Args[i] = binary.LittleEndian.Uint64(buf[32+8*i:])
		}
		return c, nil
	}
}

// Valid reports whether the caller still waits in this call. Check it after
// reading the caller's memory and descriptors and before acting on them: a
// thread id can be reused once its thread is gone.
func (c *Call) Valid() bool {
	id := c.ID
	_, _, e := unix.Syscall(unix.SYS_IOCTL, c.l.f.Fd(), unix.SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&id)))
	return e == 0
}

func (c *Call) send(val int64, errno int32) error {
	var resp [respSize]byte
	binary.LittleEndian.PutUint64(resp[0:], c.ID)
	binary.LittleEndian.PutUint64(resp[8:], uint64(val))
	binary.LittleEndian.PutUint32(resp[16:], uint32(errno))
	_, _, e := unix.Syscall(unix.SYS_IOCTL, c.l.f.Fd(), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp[0])))
	if e == unix.ENOENT {
		return ErrGone
	}
	if e != 0 {
		return fmt.Errorf("unotify: answer: %w", e)
	}
	return nil
}

// Return answers the call with a result value.
func (c *Call) Return(val int64) error { return c.send(val, 0) }

// Fail answers the call with an error number.
func (c *Call) Fail(errno unix.Errno) error {
	if errno == 0 {
		errno = unix.EIO // a failure must carry an errno, or it reads as success
	}
	return c.send(-1, -int32(errno))
}

// ReturnFD installs fd (a descriptor of this process) in the caller as its
// lowest free descriptor, close-on-exec if asked, and answers the call with
// its number, in one step (SECCOMP_ADDFD_FLAG_SEND, Linux 5.14). fd stays
// open here; the caller's copy shares its open file description.
func (c *Call) ReturnFD(fd int, cloexec bool) error {
	var req [addfdSize]byte
	binary.LittleEndian.PutUint64(req[0:], c.ID)
	binary.LittleEndian.PutUint32(req[8:], unix.SECCOMP_ADDFD_FLAG_SEND)
	binary.LittleEndian.PutUint32(req[12:], uint32(fd))
	if cloexec {
		binary.LittleEndian.PutUint32(req[20:], unix.O_CLOEXEC)
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, c.l.f.Fd(), unix.SECCOMP_IOCTL_NOTIF_ADDFD, uintptr(unsafe.Pointer(&req[0])))
	switch e {
	case 0:
		return nil
	case unix.ENOENT:
		return ErrGone
	case unix.EMFILE:
		// The caller has no descriptor left (RLIMIT_NOFILE): tell it so.
		return c.Fail(unix.EMFILE)
	}
	return fmt.Errorf("unotify: install a descriptor in the caller: %w", e)
}

// ReadMemory copies len(buf) bytes at addr in the caller's memory.
func (c *Call) ReadMemory(addr uint64, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	if addr == 0 {
		return unix.EFAULT
	}
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(c.TID, local, remote, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrGone
		}
		return err
	}
	if n != len(buf) {
		return unix.EFAULT
	}
	return nil
}

// ReadString copies the NUL-terminated string at addr, of at most max bytes
// before the NUL; a longer one is ENAMETOOLONG. It reads page by page, so a
// string that ends just before an unmapped page reads like the kernel's own
// strncpy_from_user would.
func (c *Call) ReadString(addr uint64, max int) (string, error) {
	if addr == 0 {
		return "", unix.EFAULT
	}
	const page = 4096
	var out []byte
	for len(out) <= max {
		chunk := page - int(addr%page)
		buf := make([]byte, chunk)
		if err := c.ReadMemory(addr, buf); err != nil {
			return "", err
		}
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			out = append(out, buf[:i]...)
			if len(out) > max {
				break
			}
			return string(out), nil
		}
		out = append(out, buf...)
		addr += uint64(chunk)
	}
	return "", unix.ENAMETOOLONG
}

// FD returns a duplicate of the caller's descriptor fd (pidfd_getfd, Linux
// 5.6), close-on-exec. An fd the caller does not have is EBADF.
func (c *Call) FD(fd int) (int, error) {
	pidfd, err := unix.PidfdOpen(c.TID, pidfdThread)
	if errors.Is(err, unix.EINVAL) {
		// Before Linux 6.9 only a thread-group leader has a pidfd; the
		// descriptor table is the whole group's anyway.
		var tgid int
		if tgid, err = threadGroup(c.TID); err == nil {
			pidfd, err = unix.PidfdOpen(tgid, 0)
		}
	}
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return -1, ErrGone
		}
		return -1, fmt.Errorf("unotify: pidfd_open %d: %w", c.TID, err)
	}
	defer unix.Close(pidfd)
	dup, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, err
	}
	return dup, nil
}

// threadGroup returns the thread-group id of tid from /proc.
func threadGroup(tid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0, unix.ESRCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, unix.ESRCH
}

// Umask returns the calling thread's file mode creation mask, from
// /proc/TID/status (Linux 4.7).
func (c *Call) Umask() (uint32, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.TID) + "/status")
	if err != nil {
		return 0, ErrGone
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return 0, fmt.Errorf("unotify: umask of %d: %q", c.TID, v)
			}
			return uint32(m), nil
		}
	}
	return 0, fmt.Errorf("unotify: /proc/%d/status has no Umask line", c.TID)
}
