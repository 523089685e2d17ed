package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The terminal approver is tested in a child process (this test binary
// again) whose controlling terminal is a real pseudo-terminal, while its
// standard input is a pipe holding a different answer: the approver must
// read the terminal, never standard input.

const ttyChildEnv = "CORDON_APPROVAL_TTY_CHILD"

type childResult struct {
	Answers []Answer `json:"answers"`
	Errors  []string `json:"errors"`
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(ttyChildEnv); mode != "" {
		terminalChild(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// terminalChild asks once (or twice at the same time) on the controlling
// terminal and prints the answers as JSON.
func terminalChild(mode string) {
	r := Request{Command: "git push --force origin main", Argv: []string{"git", "push", "--force", "origin", "main"},
		Cwd: "/w", Category: "pr-merge", Reason: "force push", Session: "s1"}
	n := 1
	if mode == "twice" {
		n = 2
	}
	ch := Chain(time.Minute, NewTerminal(os.Getenv("CORDON_TEST_STATE")))
	res := childResult{Answers: make([]Answer, n), Errors: make([]string, n)}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := ch.Ask(context.Background(), r)
			res.Answers[i] = a
			if err != nil {
				res.Errors[i] = err.Error()
			}
		})
	}
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(res)
}

func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("this test needs pseudo-terminals (/dev/ptmx): %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// screen collects what the child writes to its terminal.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *screen) waitFor(t *testing.T, text string, count int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(s.String(), text) >= count {
			return
		}
	}
	t.Fatalf("the terminal never showed %q %d times; it shows:\n%s", text, count, s.String())
}

func startChild(t *testing.T, mode string, tty *os.File) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), ttyChildEnv+"="+mode, "CORDON_TEST_STATE="+t.TempDir())
	// Standard input holds "always": if the approver read it, the answer
	// would be always.
	cmd.Stdin = strings.NewReader("a\na\na\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if tty != nil {
		cmd.ExtraFiles = []*os.File{tty}
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = 3
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

func childAnswers(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer) childResult {
	t.Helper()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	return res
}

func TestTerminalAsksOnTheControllingTerminal(t *testing.T) {
	master, slave := openPTY(t)
	// Typed before the question was shown: must not count as the answer.
	master.WriteString("a\n")
	cmd, out := startChild(t, "once", slave)
	var scr screen
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			scr.mu.Lock()
			scr.buf.Write(buf[:n])
			scr.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	scr.waitFor(t, "answer> ", 1)
	for _, want := range []string{"git push --force origin main", "directory  /w", "pr-merge", "force push", "[s] this session"} {
		if !strings.Contains(scr.String(), want) {
			t.Errorf("the prompt does not show %q:\n%s", want, scr.String())
		}
	}
	master.WriteString("s\n")
	res := childAnswers(t, cmd, out)
	a := res.Answers[0]
	if res.Errors[0] != "" || a.Decision != Allow || a.Scope != ScopeSession || a.Channel != ChannelTerminal || a.Approver == "" {
		t.Fatalf("answer = %+v (error %q); want allow for the session, typed at the terminal after the prompt (standard input and the keys typed before the prompt said always)", a, res.Errors[0])
	}
}

func TestTerminalPromptsTakeTurns(t *testing.T) {
	master, slave := openPTY(t)
	cmd, out := startChild(t, "twice", slave)
	var scr screen
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			scr.mu.Lock()
			scr.buf.Write(buf[:n])
			scr.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	scr.waitFor(t, "answer> ", 1)
	scr.waitFor(t, "another cordon is asking on this terminal", 1)
	master.WriteString("o\n")
	scr.waitFor(t, "answer> ", 2)
	master.WriteString("d\n")
	res := childAnswers(t, cmd, out)
	got := []string{res.Answers[0].Decision + "/" + res.Answers[0].Scope, res.Answers[1].Decision + "/" + res.Answers[1].Scope}
	if !(got[0] == "allow/once" && got[1] == "deny/") && !(got[0] == "deny/" && got[1] == "allow/once") {
		t.Fatalf("answers = %v, want one allow/once and one deny", got)
	}
}

func TestTerminalUnavailableWithoutControllingTerminal(t *testing.T) {
	cmd, out := startChild(t, "once", nil)
	res := childAnswers(t, cmd, out)
	if res.Answers[0].Allowed() {
		t.Fatal("allowed without a terminal (standard input said always)")
	}
	if !strings.Contains(res.Errors[0], "no controlling terminal") || !strings.Contains(res.Errors[0], "no approval channel is available") {
		t.Fatalf("error = %q, want the no-approver error naming the missing terminal", res.Errors[0])
	}
}
