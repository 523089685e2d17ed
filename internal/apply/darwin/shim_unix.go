//go:build darwin || linux

package darwin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// shimMain runs inside the sandbox, started by sandbox-exec (or, in
// full-access mode, by the watcher directly), as the process that becomes
// the command. Before it execs the command it proves that the profile is in
// force: it tries to create a file in the probe directory, which its user
// may write and the profile does not name, and must be refused. Then it sets
// the resource limits (on itself, so the command inherits them), finds the
// command in the command's own PATH, reports on fd 3 and execs.
func shimMain(args []string) {
	status := statusFile()
	report := func(m Message) {
		if status != nil {
			json.NewEncoder(status).Encode(m) //nolint:errcheck // the watcher also sees the exit status
		}
	}
	fail := func(code int, m Message) {
		if status == nil {
			fmt.Fprintf(os.Stderr, "cordon: error: %s\n", m.Error)
		}
		report(m)
		os.Exit(code)
	}
	spec, err := macplan.ParseShimArgs(args)
	if err != nil {
		fail(125, Message{Type: MsgError, Layer: "launcher", Error: "bad shim arguments: " + err.Error()})
	}
	if spec.ProbeDir != "" {
		if err := probe(spec.ProbeDir); err != nil {
			fail(125, Message{Type: MsgError, Layer: "seatbelt", Error: err.Error(),
				Hint: "the command did not run; run `cordon doctor` and report this with `cordon run --explain`"})
		}
	}
	for _, r := range spec.Rlimits {
		lim := &syscall.Rlimit{Cur: r.Value, Max: r.Value}
		// syscall.Setrlimit, not unix's: for RLIMIT_NOFILE it also stops
		// the runtime from restoring its own limit across exec.
		if err := syscall.Setrlimit(r.Resource, lim); err != nil {
			fail(125, Message{Type: MsgError, Layer: "rlimits", Error: fmt.Sprintf("setrlimit(%d, %d): %v", r.Resource, r.Value, err),
				Hint: "lower the limit in the policy: an unprivileged process cannot raise its hard limit"})
		}
	}
	path, err := exec.LookPath(spec.Argv[0])
	if errors.Is(err, exec.ErrDot) {
		err = nil // a PATH entry of "." is the user's choice, as in a shell
	}
	if err != nil {
		code := 127
		if errors.Is(err, fs.ErrPermission) {
			code = 126
		}
		fail(code, Message{Type: MsgExecError, Code: code, Error: fmt.Sprintf("%s: %v", spec.Argv[0], errors.Unwrap(err))})
	}
	report(Message{Type: MsgApplied})
	if status != nil {
		unix.CloseOnExec(int(status.Fd()))
	}
	err = syscall.Exec(path, spec.Argv, os.Environ())
	code := 126
	if errors.Is(err, syscall.ENOENT) {
		code = 127
	}
	fail(code, Message{Type: MsgExecError, Code: code, Error: fmt.Sprintf("%s: %v", spec.Argv[0], err)})
}

// statusFile is fd 3 when the watcher passed its status pipe, or nil.
func statusFile() *os.File {
	var st unix.Stat_t
	if unix.Fstat(3, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	return os.NewFile(3, "status")
}

// probe fails unless creating a file in dir is refused by the sandbox.
func probe(dir string) error {
	p := filepath.Join(dir, "probe-"+strconv.Itoa(os.Getpid()))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		f.Close()
		os.Remove(p)
		return fmt.Errorf("the sandbox is not in force: the command's process could create %s, which the profile refuses", p)
	}
	if !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("cannot prove the sandbox is in force: creating %s failed with %v, not with the sandbox's refusal", p, err)
	}
	return nil
}
