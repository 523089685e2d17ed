package agents

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// maxLine is the longest message line cordon mcp reads, as docs/agents.md
// states it: 4 MiB, not counting the newline.
const maxLine = 4 << 20

// rawMCP is a `cordon mcp` process driven line by line over its stdin and
// stdout, as a client that sends what it likes.
type rawMCP struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	log *syncBuffer
	// done is closed when the process has exited, with waitErr set.
	done    chan struct{}
	waitErr error
}

func startRawMCP(t *testing.T, e *env) *rawMCP {
	t.Helper()
	cmd := detach(exec.Command(cordonBin, "mcp", "--workspace", e.ws))
	cmd.Dir = e.ws
	cmd.Env = e.environ()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &rawMCP{t: t, cmd: cmd, in: in, out: bufio.NewReader(out), log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("cordon mcp log:\n%.4000s", s.log)
		}
	})
	return s
}

func (s *rawMCP) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatalf("writing to cordon mcp: %v\n%s", err, s.log)
	}
}

// answers reads n answer lines, keyed by their id as written (null, 7,
// "x"): the transport's answers and the session's can come in either order.
func (s *rawMCP) answers(n int) map[string]string {
	s.t.Helper()
	type line struct {
		s   string
		err error
	}
	got := map[string]string{}
	for range n {
		ch := make(chan line, 1)
		go func() {
			l, err := s.out.ReadString('\n')
			ch <- line{l, err}
		}()
		var l line
		select {
		case l = <-ch:
		case <-time.After(60 * time.Second):
			s.t.Fatalf("no answer from cordon mcp within 60 s (got %v)", got)
		}
		if l.err != nil {
			s.t.Fatalf("reading cordon mcp's answers: %v (got %v)", l.err, got)
		}
		var m struct{ ID json.RawMessage }
		if err := json.Unmarshal([]byte(l.s), &m); err != nil {
			s.t.Fatalf("cordon mcp wrote a line that is not JSON: %q", l.s)
		}
		if _, dup := got[string(m.ID)]; dup {
			s.t.Fatalf("two answers with id %s: %s and %s", m.ID, got[string(m.ID)], l.s)
		}
		got[string(m.ID)] = strings.TrimSuffix(l.s, "\n")
	}
	return got
}

func (s *rawMCP) alive() {
	s.t.Helper()
	select {
	case <-s.done:
		s.t.Fatalf("cordon mcp exited (%v)\n%s", s.waitErr, s.log)
	default:
	}
}

// TestMCPBadLinesKeepTheSessionAlive writes, on a raw pipe, lines a client
// should not send: each gets its exact JSON-RPC error, the request written
// after it is still answered, and the server keeps running.
func TestMCPBadLinesKeepTheSessionAlive(t *testing.T) {
	e := newEnv(t)
	s := startRawMCP(t, e)
	s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)
	if got := s.answers(1)["1"]; !strings.Contains(got, `"serverInfo":{"name":"cordon"`) {
		t.Fatalf("initialize: %s", got)
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	pad := func(line string, size int) string { return line + strings.Repeat(" ", size-len(line)) }
	oversized := `{"jsonrpc":"2.0","id":"too-big","method":"tools/call","params":{"name":"check_command","arguments":{"command":"echo ` +
		strings.Repeat("A", maxLine) + `"}}}`
	for i, c := range []struct {
		name, line string
		// id is the id of the error answer ("" for none), want its line.
		id, want string
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":5,"method":"tools/list"`,
			"null", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not one JSON value","data":{"offset":45}}}`},
		{"not JSON at all", `hello, server`,
			"null", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not one JSON value","data":{"offset":0}}}`},
		{"a batch", `[{"jsonrpc":"2.0","id":6,"method":"ping"},{"jsonrpc":"2.0","id":7,"method":"tools/list"}]`,
			"null", `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: JSON-RPC batches are not supported (MCP removed them in revision 2025-06-18); send each message on a line of its own"}}`},
		{"an empty batch", `[]`,
			"null", `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: JSON-RPC batches are not supported (MCP removed them in revision 2025-06-18); send each message on a line of its own"}}`},
		{"an empty line", ``, "", ""},
		{"a line of whitespace and CR", " \t \r", "", ""},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"check_command\",\"arguments\":{\"command\":\"echo \xc3\x28\"}}}",
			"null", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not valid UTF-8","data":{"offset":108}}}`},
		{"not JSON-RPC 2.0", `{"jsonrpc":"1.0","id":9,"method":"ping"}`,
			"9", `{"jsonrpc":"2.0","id":9,"error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\""}}`},
		{"a line longer than 4 MiB", oversized,
			`"too-big"`, `{"jsonrpc":"2.0","id":"too-big","error":{"code":-32600,"message":"Invalid Request: the line is longer than the 4194304 bytes a message may take","data":{"length":` + fmt.Sprint(len(oversized)) + `,"limit":4194304}}}`},
		{"a line of exactly 4 MiB", pad(`{"jsonrpc":"2.0","id":"at-limit","method":"ping"}`, maxLine),
			`"at-limit"`, `{"jsonrpc":"2.0","id":"at-limit","result":{}}`},
	} {
		s.send(c.line)
		id := fmt.Sprint(100 + i)
		s.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"check_command","arguments":{"command":"git status"}}}`)
		n := 2
		if c.id == "" {
			n = 1
		}
		got := s.answers(n)
		if c.id != "" && got[c.id] != c.want {
			t.Errorf("%s: answer\n got %.400s\nwant %.400s", c.name, got[c.id], c.want)
		}
		var res struct {
			Result struct {
				IsError           bool `json:"isError"`
				StructuredContent struct {
					Decision string `json:"decision"`
				} `json:"structuredContent"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(got[id]), &res); err != nil || res.Result.IsError || res.Result.StructuredContent.Decision == "" {
			t.Fatalf("%s: the request after it (id %s) was not answered with a decision: %.400s (all: %.600v)", c.name, id, got[id], got)
		}
		s.alive()
	}

	// The sandbox still runs commands.
	s.send(`{"jsonrpc":"2.0","id":"last","method":"tools/call","params":{"name":"run_command","arguments":{"command":"echo still-` + e.token + `"}}}`)
	if got := s.answers(1)[`"last"`]; !strings.Contains(got, `"stdout":"still-`+e.token+`\n"`) {
		t.Fatalf("run_command after the bad lines: %.600s", got)
	}
	s.alive()
	if log := s.log.String(); strings.Count(log, "refused a line from the client") != 7 || strings.Contains(log, "AAAAAAAA") {
		t.Errorf("the server log should name each of the 7 refused lines, without their content:\n%.3000s", log)
	}

	// It ends when the client goes away, and only then, with status 0.
	s.in.Close()
	select {
	case <-s.done:
		if s.waitErr != nil {
			t.Errorf("cordon mcp exited with %v after its input ended\n%s", s.waitErr, s.log)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("cordon mcp did not exit after its input ended")
	}
}
