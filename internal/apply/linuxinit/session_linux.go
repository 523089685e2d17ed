package linuxinit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
)

// A warm sandbox (Plan.Session) serves one command after another. Each
// arrives as a packet on SessionFD with its standard input, output and
// error attached; the init starts it exactly as it starts a cold run's
// command, from the thread that carries the Landlock rules, the seccomp
// filter and the guard. When the command ends, the init kills every other
// process of its PID namespace and reaps them, empties the private /tmp and
// /dev/shm and removes the System V IPC objects, and only then reports the
// exit: what one command started or left cannot reach the next. A cleanup
// that fails is reported (Message.Dirty), and the supervisor retires the
// sandbox. The init ends when the supervisor closes the socket.

// SessionFD is the init's end of the warm sandbox's command socket (a
// SOCK_SEQPACKET socket: one packet per message, descriptors attached).
const SessionFD = 5

// Packet types on the command socket, supervisor to init.
const (
	// PacketCommand starts a command; three descriptors (stdin, stdout,
	// stderr) are attached.
	PacketCommand = "command"
	// PacketSignal forwards a signal to the running command's group.
	PacketSignal = "signal"
	// PacketKill ends the running command and everything it started.
	PacketKill = "kill"
)

// Packet is one message on the command socket.
type Packet struct {
	Type    string             `json:"type"`
	Argv    []string           `json:"argv,omitempty"`
	Env     []string           `json:"env,omitempty"`
	Dir     string             `json:"dir,omitempty"`
	Rlimits []linuxplan.Rlimit `json:"rlimits,omitempty"`
	Signal  int                `json:"signal,omitempty"`
}

// maxPacket bounds one packet (the environment travels in it).
const maxPacket = 1 << 20

// serveSession runs the commands of a warm sandbox until the supervisor
// closes the socket.
func (in *initProc) serveSession() int {
	packets := make(chan received)
	go receivePackets(packets)
	var mu sync.Mutex
	running := 0 // the current command's pid, for signal and kill packets
	go func() {
		// Signals and kills arrive while the main thread waits.
		for r := range controlPackets {
			mu.Lock()
			pid := running
			mu.Unlock()
			switch {
			case pid == 0:
			case r.p.Type == PacketSignal:
				unix.Kill(-pid, unix.Signal(r.p.Signal))
			case r.p.Type == PacketKill:
				unix.Kill(-1, unix.SIGKILL) // every process of the namespace but this one
			}
		}
	}()
	for r := range packets {
		if r.err != nil {
			in.send(Message{Type: MsgError, Layer: "session", Error: r.err.Error()})
			return 125
		}
		if r.p.Type != PacketCommand || len(r.fds) != 3 || len(r.p.Argv) == 0 {
			closeAll(r.fds)
			in.send(Message{Type: MsgError, Layer: "session", Error: fmt.Sprintf("unexpected packet %q with %d descriptors", r.p.Type, len(r.fds))})
			return 125
		}
		in.begin = time.Now() // each command's phases count from its packet
		cmd := command{argv: r.p.Argv, env: r.p.Env, dir: r.p.Dir, rlimits: r.p.Rlimits,
			files: []uintptr{uintptr(r.fds[0]), uintptr(r.fds[1]), uintptr(r.fds[2])}}
		exit, ok := in.runCommand(cmd, func(pid int) {
			mu.Lock()
			running = pid
			mu.Unlock()
		})
		closeAll(r.fds)
		mu.Lock()
		running = 0
		mu.Unlock()
		if err := endEverything(); err != nil {
			exit.Dirty = err.Error()
		}
		if ok {
			in.send(exit)
		}
		in.phases = nil
	}
	unix.Kill(-1, unix.SIGKILL)
	return 0
}

type received struct {
	p   Packet
	fds []int
	err error
}

// receivePackets reads the command socket: command packets go to out,
// signal and kill packets to the init's control channel; out is closed
// when the supervisor closes its end.
func receivePackets(out chan<- received) {
	defer close(out)
	buf := make([]byte, maxPacket)
	oob := make([]byte, unix.CmsgSpace(3*4))
	for {
		n, oobn, flags, _, err := unix.Recvmsg(SessionFD, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return
		}
		var fds []int
		if oobn > 0 {
			msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				if rights, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, rights...)
				}
			}
			if perr != nil {
				err = perr
			}
		}
		if err == nil && flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			err = errors.New("a packet or its descriptors were truncated")
		}
		var p Packet
		if err == nil {
			err = json.Unmarshal(buf[:n], &p)
		}
		if err != nil {
			closeAll(fds)
			out <- received{err: fmt.Errorf("command socket: %w", err)}
			return
		}
		if p.Type == PacketSignal || p.Type == PacketKill {
			closeAll(fds)
			controlPackets <- received{p: p}
			continue
		}
		out <- received{p: p, fds: fds}
	}
}

// controlPackets carries signal and kill packets to serveSession.
var controlPackets = make(chan received, 16)

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// endEverything kills every process of the PID namespace but the init,
// reaps them, and leaves nothing of the command in the sandbox's private
// places. It returns what it could not clean.
func endEverything() error {
	unix.Kill(-1, unix.SIGKILL)
	for {
		_, err := unix.Wait4(-1, nil, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			break // ECHILD: nothing is left
		}
	}
	var problems []string
	for _, dir := range []string{"/tmp", "/dev/shm"} {
		if err := emptyDir(dir); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if err := removeIPC(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// emptyDir removes what dir holds; mount points in it (granted host
// sockets) stay.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(p); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	return nil
}

// removeIPC removes the System V shared memory segments, message queues and
// semaphore sets of the sandbox's IPC namespace.
func removeIPC() error {
	for _, kind := range []struct {
		file  string
		inUse func() int
		rm    func(id int) error
	}{
		{"/proc/sysvipc/shm", func() int { return ipcInUse(unix.SYS_SHMCTL, shmInfo, 0) },
			func(id int) error { _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); return err }},
		{"/proc/sysvipc/msg", func() int { return ipcInUse(unix.SYS_MSGCTL, msgInfo, 0) },
			func(id int) error { return ipcRemove(unix.SYS_MSGCTL, id) }},
		{"/proc/sysvipc/sem", func() int { return ipcInUse(unix.SYS_SEMCTL, semInfo, 7) },
			func(id int) error { return ipcRemove(unix.SYS_SEMCTL, id) }},
	} {
		if kind.inUse() == 0 {
			continue // the usual case: one system call instead of a file
		}
		data, err := os.ReadFile(kind.file)
		if err != nil {
			return err
		}
		lines := strings.Split(string(data), "\n")
		for _, line := range lines[1:] { // a header line first
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			id, err := strconv.Atoi(f[1])
			if err != nil {
				continue
			}
			if err := kind.rm(id); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EIDRM) {
				return fmt.Errorf("remove IPC object %d (%s): %w", id, kind.file, err)
			}
		}
	}
	return nil
}

// The *_INFO commands of shmctl, msgctl and semctl (include/uapi/linux/shm.h, msg.h,
// sem.h).
const (
	shmInfo = 14
	msgInfo = 12
	semInfo = 19
)

// ipcInUse asks the IPC namespace how many objects of a kind exist: the
// *_INFO command fills a struct of ints (shm_info, msginfo, seminfo) whose
// field at index holds the count in use (used_ids, msgpool, semusz). On
// failure it answers "some", so that the caller looks.
func ipcInUse(call, cmd uintptr, index int) int {
	var buf [32]int32 // larger than each of the three structs
	var r1 uintptr
	var e unix.Errno
	if call == unix.SYS_SEMCTL {
		r1, _, e = unix.Syscall6(call, 0, 0, cmd, uintptr(unsafe.Pointer(&buf[0])), 0, 0)
	} else {
		r1, _, e = unix.Syscall(call, 0, cmd, uintptr(unsafe.Pointer(&buf[0])))
	}
	_ = r1
	if e != 0 {
		return 1
	}
	return int(buf[index])
}

func ipcRemove(call uintptr, id int) error {
	var err error
	if call == unix.SYS_SEMCTL {
		_, _, e := unix.Syscall6(call, uintptr(id), 0, unix.IPC_RMID, 0, 0, 0)
		if e != 0 {
			err = e
		}
	} else {
		_, _, e := unix.Syscall(call, uintptr(id), unix.IPC_RMID, 0)
		if e != 0 {
			err = e
		}
	}
	return err
}
