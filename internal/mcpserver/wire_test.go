package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/policy"
)

// wire is a server driven line by line over OS pipes, as a client's
// process would drive `cordon mcp`: what the tests send and read is
// exactly what crosses the wire.
type wire struct {
	t    *testing.T
	ws   string
	in   *os.File
	out  *bufio.Reader
	log  *syncLog
	done chan error
	// lines is every line the server wrote, in order.
	lines chan string
}

// startWire serves one client over pipes; opts is completed with a
// fresh workspace and, unless set, the built-in policy.
func startWire(t *testing.T, opts Options) *wire {
	t.Helper()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	home := filepath.Join(root, "home")
	ws := filepath.Join(home, "proj")
	mkdirs(t, ws)
	if opts.Policy == nil {
		opts.Policy = withRules(testPolicy(t, ws, home, policy.Flags{}), cmdpolicy.Config{})
	}
	opts.Workspace, opts.Home = ws, home
	opts.Environ = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	log := &syncLog{}
	opts.Log = log
	srv, err := New(withRun(opts))
	if err != nil {
		t.Fatal(err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{t: t, ws: ws, in: inW, log: log, done: make(chan error, 1), lines: make(chan string, 1000)}
	go func() {
		err := srv.ServeStdio(context.Background(), inR, outW)
		outW.Close()
		w.done <- err
	}()
	go func() {
		r := bufio.NewReaderSize(outR, 1<<20)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(w.lines)
				return
			}
			w.lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-w.done:
		case <-time.After(30 * time.Second):
			t.Errorf("ServeStdio did not return after its input ended")
		}
		outR.Close()
		if t.Failed() {
			t.Logf("server log:\n%.4000s", log.String())
		}
	})
	return w
}

func (w *wire) send(lines ...string) {
	w.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(w.in, l+"\n"); err != nil {
			w.t.Fatalf("writing to the server: %v", err)
		}
	}
}

// next returns the next line the server writes.
func (w *wire) next() string {
	w.t.Helper()
	select {
	case l, ok := <-w.lines:
		if !ok {
			w.t.Fatalf("the server closed its output")
		}
		return l
	case <-time.After(60 * time.Second):
		w.t.Fatalf("no line from the server within 60 s")
	}
	return ""
}

// answer reads lines until the answer with id (as written: 7, "x")
// comes, and returns it; the lines read before it are returned too.
func (w *wire) answer(id string) (string, []string) {
	w.t.Helper()
	var before []string
	for {
		l := w.next()
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			w.t.Fatalf("the server wrote a line that is not JSON: %q", l)
		}
		if m.Method == "" && string(m.ID) == id {
			return l, before
		}
		before = append(before, l)
	}
}

// call sends one request and returns its answer.
func (w *wire) call(id, method, params string) string {
	w.t.Helper()
	line := `{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `"`
	if params != "" {
		line += `,"params":` + params
	}
	w.send(line + "}")
	a, _ := w.answer(id)
	return a
}

const initParams = `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"wire-test","version":"0"}}`

// initialize runs the lifecycle's handshake.
func (w *wire) initialize() string {
	w.t.Helper()
	a := w.call(`"init"`, "initialize", initParams)
	w.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return a
}

// result returns the result of an answer, exactly as written.
func result(t *testing.T, answer string) string {
	t.Helper()
	var m struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(answer), &m); err != nil || m.Result == nil {
		t.Fatalf("not a result: %s", answer)
	}
	return string(m.Result)
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b, []byte("\n")))
}

// TestToolsListGolden: what tools/list says about the tools (names,
// titles, descriptions, annotations, input and output schemas) is, byte
// for byte, what cordon's server said when it was built on the Go SDK
// (testdata/tools-list.golden.json was captured from that server).
func TestToolsListGolden(t *testing.T) {
	w := startWire(t, Options{})
	w.initialize()
	var res struct {
		Tools json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal([]byte(result(t, w.call("2", "tools/list", ""))), &res); err != nil {
		t.Fatal(err)
	}
	if want := golden(t, "tools-list.golden.json"); string(res.Tools) != want {
		t.Errorf("tools/list changed:\n got %s\nwant %s", res.Tools, want)
	}
}

// TestInitializeGolden: the answer to initialize is the one the SDK-based
// server gave (captured in testdata/initialize.golden.json).
func TestInitializeGolden(t *testing.T) {
	w := startWire(t, Options{Version: "(devel)"})
	if got, want := result(t, w.initialize()), golden(t, "initialize.golden.json"); got != want {
		t.Errorf("initialize:\n got %s\nwant %s", got, want)
	}
}

// TestToolResultsGolden: tool results and tool errors are written as the
// SDK-based server wrote them: the output as structured content, its keys
// sorted, and the same JSON as text; errors as text with isError.
func TestToolResultsGolden(t *testing.T) {
	w := startWire(t, Options{})
	w.initialize()
	for i, c := range []struct{ args, want string }{
		{`{"command":"git status"}`, `{"content":[{"type":"text","text":"{\"decision\":\"allow\",\"parts\":[{\"command\":\"git status\",\"decision\":\"allow\",\"reason\":\"no rule applies; the default decision is allow (the sandbox still confines the command)\"}],\"summary\":\"allowed: run_command runs it inside the sandbox without asking anyone\"}"}],"structuredContent":{"decision":"allow","parts":[{"command":"git status","decision":"allow","reason":"no rule applies; the default decision is allow (the sandbox still confines the command)"}],"summary":"allowed: run_command runs it inside the sandbox without asking anyone"}}`},
		{`{"argv":["a<b"]}`, `{"content":[{"type":"text","text":"{\"decision\":\"allow\",\"parts\":[{\"command\":\"'a\\u003cb'\",\"decision\":\"allow\",\"reason\":\"no rule applies; the default decision is allow (the sandbox still confines the command)\"}],\"summary\":\"allowed: run_command runs it inside the sandbox without asking anyone\"}"}],"structuredContent":{"decision":"allow","parts":[{"command":"'a\u003cb'","decision":"allow","reason":"no rule applies; the default decision is allow (the sandbox still confines the command)"}],"summary":"allowed: run_command runs it inside the sandbox without asking anyone"}}`},
		{`{}`, `{"content":[{"type":"text","text":"give command (a shell command line) or argv (a program and its arguments)"}],"isError":true}`},
		{`null`, `{"content":[{"type":"text","text":"give command (a shell command line) or argv (a program and its arguments)"}],"isError":true}`},
		{`{"command":"git status","mode":"x"}`, `{"content":[{"type":"text","text":"validating \"arguments\": validating root: unexpected additional properties [\"mode\"]"}],"isError":true}`},
		{`{"Command":"x"}`, `{"content":[{"type":"text","text":"validating \"arguments\": validating root: unexpected additional properties [\"Command\"]"}],"isError":true}`},
		{`{"command":42}`, `{"content":[{"type":"text","text":"validating \"arguments\": validating root: validating /properties/command: type: 42 has type \"integer\", want \"string\""}],"isError":true}`},
		{`{"argv":"ls"}`, `{"content":[{"type":"text","text":"validating \"arguments\": validating root: validating /properties/argv: type: ls has type \"string\", want one of \"null, array\""}],"isError":true}`},
		// (Here the SDK wrote "<invalid reflect.Value>" for null.)
		{`{"command":null}`, `{"content":[{"type":"text","text":"validating \"arguments\": validating root: validating /properties/command: type: null has type \"null\", want \"string\""}],"isError":true}`},
		{`{"argv":[1]}`, `{"content":[{"type":"text","text":"validating \"arguments\": validating root: validating /properties/argv: validating /properties/argv/items: type: 1 has type \"integer\", want \"string\""}],"isError":true}`},
	} {
		id := strings.Repeat("1", i+1)
		got := result(t, w.call(id, "tools/call", `{"name":"check_command","arguments":`+c.args+`}`))
		if got != c.want {
			t.Errorf("check_command %s:\n got %s\nwant %s", c.args, got, c.want)
		}
	}
	got := result(t, w.call("99", "tools/call", `{"name":"run_command","arguments":{"command":"true","timeout_seconds":-1}}`))
	if want := `{"content":[{"type":"text","text":"timeout_seconds must be a positive number of seconds, not -1"}],"isError":true}`; got != want {
		t.Errorf("run_command:\n got %s\nwant %s", got, want)
	}
	got = result(t, w.call("100", "tools/call", `{"name":"sandbox_info","arguments":{"x":1}}`))
	if want := `{"content":[{"type":"text","text":"validating \"arguments\": validating root: unexpected additional properties [\"x\"]"}],"isError":true}`; got != want {
		t.Errorf("sandbox_info:\n got %s\nwant %s", got, want)
	}
}
