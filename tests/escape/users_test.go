//go:build linux

package escape

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The unprivileged runs do not share one uid. Without a user namespace
// (the landlock mode) and for the test's own baselines, RLIMIT_NPROC
// counts every task of the real uid on the machine: a fork bomb, 300
// sleepers or a mere Go program of one subtest took from the process limit
// of the others running beside it, and other engineers' tests run as
// nobody on the same machine. So each subtest that asks for an unprivileged
// user (ownUser) gets a uid of its own from a pool, held until it ends,
// against the other subtests of this process (a channel) and against other
// test processes (an flock per uid). The uids have no passwd entry: nothing
// here needs one (cordon and the tools the probes run take HOME from the
// environment, git gets its identity with -c).
const (
	ownUser  = -1    // newEnv: a uid of the test's own
	firstUID = 65500 // the pool: firstUID ... firstUID+poolSize-1
	poolSize = 32
)

var (
	freeUIDs = func() chan int {
		c := make(chan int, poolSize)
		for i := range poolSize {
			c <- firstUID + i
		}
		return c
	}()
	uidOf sync.Map // *testing.T -> int
)

// uidLocks holds the lock files, one per uid of the pool.
var uidLocks = filepath.Join(testBase, "cordon-escape-uids")

// userFor resolves uid for t: ownUser becomes t's own uid (the same for
// every env of t), anything else stays.
func userFor(t *testing.T, uid int) int {
	t.Helper()
	if uid != ownUser {
		return uid
	}
	if u, ok := uidOf.Load(t); ok {
		return u.(int)
	}
	u := takeUID(t)
	uidOf.Store(t, u)
	return u
}

// takeUID takes a uid that no other test uses until t ends and that owns
// no process at all (a zombie counts against RLIMIT_NPROC until reaped).
// It waits, without polling, while every uid is in use.
func takeUID(t *testing.T) int {
	t.Helper()
	if err := os.MkdirAll(uidLocks, 0o700); err != nil {
		t.Fatal(err)
	}
	unusable := 0
	for tries := 0; ; tries++ {
		uid := <-freeUIDs
		f, err := os.OpenFile(filepath.Join(uidLocks, strconv.Itoa(uid)), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			freeUIDs <- uid
			t.Fatal(err)
		}
		how := unix.LOCK_EX | unix.LOCK_NB
		if tries >= 2*poolSize {
			how = unix.LOCK_EX // other test processes hold the rest: wait for this one
		}
		if err := unix.Flock(int(f.Fd()), how); err != nil {
			f.Close()
			freeUIDs <- uid
			if errors.Is(err, unix.EWOULDBLOCK) {
				continue
			}
			t.Fatalf("lock uid %d: %v", uid, err)
		}
		if left := tasksOf(uid); len(left) > 0 {
			// Processes no test of ours can end (zombies of an init that
			// does not reap): the uid stays out of this run's pool.
			f.Close()
			if unusable++; unusable == poolSize {
				t.Fatalf("every uid of the pool (%d...%d) owns processes no test can end; one of them: %v", firstUID, firstUID+poolSize-1, left)
			}
			continue
		}
		t.Cleanup(func() {
			releaseUID(t, uid)
			uidOf.Delete(t)
			f.Close()
			freeUIDs <- uid
		})
		return uid
	}
}

// releaseUID waits until uid owns nothing, reaping the zombies that are
// this process's children (it is a subreaper: see TestMain). A process
// still alive then is the test's error: every probe, baseline and
// sandboxed run must have ended (and a killed one is gone within moments);
// it is killed so that the uid can serve the next test.
func releaseUID(t *testing.T, uid int) {
	empty := func() bool {
		for _, pid := range tasksOf(uid) {
			if procState(pid) == "Z" && parentOf(pid) == os.Getpid() {
				unix.Wait4(pid, nil, unix.WNOHANG, nil)
			}
		}
		return len(tasksOf(uid)) == 0
	}
	if waitFor(empty, 10*time.Second) {
		return
	}
	if live := liveTasks(uid); len(live) > 0 {
		t.Errorf("uid %d still runs %d processes 10 s after the test (%v): the test left them running", uid, len(live), live)
		killAll(live)
		if waitFor(empty, 10*time.Second) {
			return
		}
	}
	t.Logf("uid %d still owns %v after the test; the pool skips it from now on", uid, tasksOf(uid))
}

// tasksOf lists the processes whose real uid is uid, zombies included:
// what RLIMIT_NPROC counts.
func tasksOf(uid int) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/status")
	want := "Uid:\t" + strconv.Itoa(uid) + "\t"
	for _, st := range dirs {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "Uid:") {
				if strings.HasPrefix(line, want) {
					pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
					out = append(out, pid)
				}
				break
			}
		}
	}
	return out
}

// liveTasks lists the processes of uid that are not zombies.
func liveTasks(uid int) []int {
	var out []int
	for _, pid := range tasksOf(uid) {
		if s := procState(pid); s != "Z" && s != "gone" {
			out = append(out, pid)
		}
	}
	return out
}

// parentOf returns pid's parent, or 0.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
