package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/policy"
)

const (
	replyParseJSON = `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not one JSON value","data":{"offset":%d}}}`
	replyBatch     = `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: JSON-RPC batches are not supported (MCP removed them in revision 2025-06-18); send each message on a line of its own"}}`
)

// judgeCases are lines and what judgeLine must make of them: "" for a
// message handed on to the session, "-" for a line skipped without an answer,
// otherwise the exact answer.
var judgeCases = []struct{ line, want string }{
	{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, ""},
	{`{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{}}` + "\r", ""},
	{`  {"jsonrpc":"2.0","method":"notifications/initialized"}  `, ""},
	{`{"jsonrpc":"2.0","id":7,"result":{}}`, ""},
	{`{"jsonrpc":"2.0","id":7,"error":{"code":1,"message":"x"}}`, ""},
	{"", "-"},
	{" \t \r", "-"},
	{`garbage`, fmt.Sprintf(replyParseJSON, 0)},
	{`{"jsonrpc":"2.0","id":1,"method":"ping"`, fmt.Sprintf(replyParseJSON, 39)},
	{`{"jsonrpc":"2.0","id":1,"method":"ping"} {}`, fmt.Sprintf(replyParseJSON, 41)},
	{`{"jsonrpc":"2.0","id":1,"method":"ping"]`, fmt.Sprintf(replyParseJSON, 39)},
	{`{"jsonrpc":"2.0","id":01,"method":"ping"}`, fmt.Sprintf(replyParseJSON, 23)},
	{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}",
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not valid UTF-8","data":{"offset":45}}}`},
	{`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`, replyBatch},
	{`[]`, replyBatch},
	{`[1`, fmt.Sprintf(replyParseJSON, 2)},
	{`[1,]`, fmt.Sprintf(replyParseJSON, 3)},
	{`42`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a JSON-RPC message is a JSON object"}}`},
	{`"ping"`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a JSON-RPC message is a JSON object"}}`},
	// A request whose id can be read gets its error under that id; so
	// does the id exactly as the client wrote it.
	{`{"jsonrpc":"1.0","id":5,"method":"ping"}`, `{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\""}}`},
	{`{"id":"a\"b","method":"ping"}`, `{"jsonrpc":"2.0","id":"a\"b","error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\""}}`},
	{`{"jsonrpc":"2.0","id":1.5e3,"method":7}`, `{"jsonrpc":"2.0","id":1.5e3,"error":{"code":-32600,"message":"Invalid Request: \"method\" must be a string"}}`},
	{`{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"id\" must be a string or a number"}}`},
	{`{"jsonrpc":"2.0","id":true,"method":"ping"}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"id\" must be a string or a number"}}`},
	// MCP: a request's id is never null (JSON-RPC allows it, and then no
	// answer can be told from another's).
	{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"id\" must be a string or a number"}}`},
	// Not a request: never answered under an id, which the client could
	// take for the answer to one of its own calls.
	{`{"jsonrpc":"2.0","id":3}`, replyNoMethod},
	{`{"jsonrpc":"2.0","id":null,"result":{}}`, replyNoMethod},
	{`{"jsonrpc":"2.0"}`, replyNoMethod},
	{`{"jsonrpc":"2.0","id":3,"JSONRPC":"1.0","Method":"ping"}`, replyNoMethod},
	// Nested deeper than any message needs: refused, without ending the
	// session.
	{`{"jsonrpc":"2.0","id":9,"method":"ping","params":{"a":` + strings.Repeat("[", 1100) + strings.Repeat("]", 1100) + `}}`,
		`{"jsonrpc":"2.0","id":9,"error":{"code":-32600,"message":"Invalid Request: the server cannot decode this message"}}`},
}

const replyNoMethod = `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a message needs a \"method\" (a request or a notification), or an \"id\" and a \"result\" or an \"error\" (a response)"}}`

func TestJudgeLine(t *testing.T) {
	for _, c := range judgeCases {
		msg, reply, why := judgeLine([]byte(c.line), len(c.line), MaxLineBytes)
		switch c.want {
		case "":
			if msg == nil || reply != nil {
				t.Errorf("%q: want a message, got msg %v, reply %s (%s)", c.line, msg, reply, why)
			}
		case "-":
			if msg != nil || reply != nil {
				t.Errorf("%q: want it skipped, got msg %v, reply %s", c.line, msg, reply)
			}
		default:
			if msg != nil || string(reply) != c.want+"\n" {
				t.Errorf("%q:\n got %s\nwant %s", c.line, reply, c.want)
			}
			if why == "" {
				t.Errorf("%q: no reason for the log", c.line)
			}
		}
	}
}

func TestJudgeLineTooLong(t *testing.T) {
	const max = 100
	for _, c := range []struct{ start, want string }{
		{`{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"x":"`, `"big"`},
		{`{"method":"tools/call","params":{"a":[1,{"b":2}]},"id":12,"params2":"`, `12`},
		// No method seen: it may be a response, so no id.
		{`{"jsonrpc":"2.0","id":12,"result":{"x":"`, `null`},
		// The id is past what was kept.
		{`{"jsonrpc":"2.0","method":"tools/call","params":{"x":"`, `null`},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"`, `null`},
	} {
		n := 5000
		msg, reply, _ := judgeLine([]byte(c.start), n, max)
		want := `{"jsonrpc":"2.0","id":` + c.want + `,"error":{"code":-32600,"message":"Invalid Request: the line is longer than the 100 bytes a message may take","data":{"length":5000,"limit":100}}}` + "\n"
		if msg != nil || string(reply) != want {
			t.Errorf("%s...:\n got %s\nwant %s", c.start, reply, want)
		}
	}
}

// TestReadLine: lines come back without their newline; a line longer
// than the limit is read to its end and comes back as its start, however
// the reads split it.
func TestReadLine(t *testing.T) {
	long := `{"id":1,"method":"x","p":"` + strings.Repeat("y", 300) + `"}`
	in := "a\r\n\n" + long + "\n" + strings.Repeat("z", 50) + "\nlast"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	type got struct {
		line string
		n    int
		err  error
	}
	var all []got
	for {
		line, n, err := readLine(r, 60)
		all = append(all, got{string(line), n, err})
		if err != nil {
			break
		}
	}
	want := []got{{"a\r", 2, nil}, {"", 0, nil}, {long, len(long), nil}, {strings.Repeat("z", 50), 50, nil}, {"last", 4, io.EOF}}
	if len(all) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(all), len(want), all)
	}
	for i := range want {
		w, g := want[i], all[i]
		if g.n != w.n || g.err != w.err || !strings.HasPrefix(w.line, g.line) || (w.n <= 60 && g.line != w.line) {
			t.Errorf("line %d: got %+v, want %+v", i, g, w)
		}
	}
	// The over-long line kept its start: enough to find the id.
	if id := sniffRequestID([]byte(all[2].line)); string(id) != "1" {
		t.Errorf("id of the long line: %s (kept %q)", id, all[2].line)
	}
}

// TestServeStdioKeepsServing drives ServeStdio over a pipe: each line that
// is not a message gets its error, and the session goes on.
func TestServeStdioKeepsServing(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	ws := filepath.Join(root, "proj")
	mkdirs(t, ws)
	var log syncLog
	srv, err := New(withRun(Options{Policy: withRules(testPolicy(t, ws, root, policy.Flags{}), cmdpolicy.Config{}), Workspace: ws, Home: root, Log: &log}))
	if err != nil {
		t.Fatal(err)
	}
	// OS pipes, which buffer as a client's pipes do: with io.Pipe the
	// server's answer would wait for the test's read while the test's
	// next write waits for the server's.
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), inR, outW); outW.Close() }()
	out := bufio.NewReader(outR)
	send := func(line string) {
		t.Helper()
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	// read returns the next answers, one per id seen: the answers of the
	// transport (id null) and of the session may come in either order.
	read := func(n int) map[string]string {
		t.Helper()
		got := map[string]string{}
		for range n {
			line, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("reading an answer: %v (got %v so far)", err, got)
			}
			var m struct{ ID json.RawMessage }
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("answer is not JSON: %q", line)
			}
			got[string(m.ID)] = strings.TrimSuffix(line, "\n")
		}
		return got
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	if got := read(1); !strings.Contains(got["1"], `"protocolVersion":"2025-06-18"`) {
		t.Fatalf("initialize: %v", got)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i, c := range judgeCases {
		if c.want == "" {
			continue
		}
		id := strconv.Itoa(100 + i)
		send(c.line)
		send(`{"jsonrpc":"2.0","id":` + id + `,"method":"ping"}`)
		n := 2
		if c.want == "-" {
			n = 1
		}
		got := read(n)
		if got[id] != `{"jsonrpc":"2.0","id":`+id+`,"result":{}}` {
			t.Fatalf("after %q: ping %s answered %q (all: %v)", c.line, id, got[id], got)
		}
		if c.want != "-" {
			var m struct{ ID json.RawMessage }
			json.Unmarshal([]byte(c.want), &m)
			if got[string(m.ID)] != c.want {
				t.Errorf("%q:\n got %s\nwant %s", c.line, got[string(m.ID)], c.want)
			}
		}
	}
	// A line over the limit, split over many writes, is answered under
	// its id; the session goes on.
	big := `{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"check_command","arguments":{"command":"echo ` +
		strings.Repeat("A", MaxLineBytes) + `"}}}`
	send(big)
	send(`{"jsonrpc":"2.0","id":"after","method":"tools/call","params":{"name":"check_command","arguments":{"command":"true"}}}`)
	got := read(2)
	wantBig := `{"jsonrpc":"2.0","id":"big","error":{"code":-32600,"message":"Invalid Request: the line is longer than the 4194304 bytes a message may take","data":{"length":` + strconv.Itoa(len(big)) + `,"limit":4194304}}}`
	if got[`"big"`] != wantBig {
		t.Errorf("over-long line:\n got %.300s\nwant %s", got[`"big"`], wantBig)
	}
	if !strings.Contains(got[`"after"`], `"decision":"allow"`) {
		t.Errorf("check_command after the over-long line: %.500s", got[`"after"`])
	}
	if !strings.Contains(log.String(), "refused a line from the client") || strings.Contains(log.String(), "AAAA") {
		t.Errorf("server log should say what was refused, not what the line held:\n%.2000s", log.String())
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeStdio after the client closed its end: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ServeStdio did not return after its input ended")
	}
}

// syncLog is a server log the test reads while the server writes it.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// FuzzJudgeLine: whatever a line holds, it is a message (a request with a
// method and an id that is a string or a number, a notification, or a
// response), skipped, or answered with one JSON-RPC error line whose id is
// null or a string or a number.
func FuzzJudgeLine(f *testing.F) {
	for _, c := range judgeCases {
		f.Add([]byte(c.line))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		msg, reply, _ := judgeLine(line, len(line), 1<<10)
		if msg != nil && reply != nil {
			t.Fatalf("%q: both a message and an answer", line)
		}
		if msg != nil {
			if msg.id != nil && (msg.method == "" || !isStringOrNumber(msg.id)) {
				t.Fatalf("%q: a request id %s", line, msg.id)
			}
			if msg.params != nil && !json.Valid(msg.params) {
				t.Fatalf("%q: params %q", line, msg.params)
			}
			return
		}
		if reply == nil {
			if len(bytes.Trim(line, " \t\r")) != 0 {
				t.Fatalf("%q: skipped, but not blank", line)
			}
			return
		}
		if bytes.Count(reply, []byte("\n")) != 1 || reply[len(reply)-1] != '\n' {
			t.Fatalf("%q: answer is not one line: %q", line, reply)
		}
		var r struct {
			JSONRPC string
			ID      json.RawMessage
			Error   struct{ Code int }
		}
		if err := json.Unmarshal(reply, &r); err != nil {
			t.Fatalf("%q: answer is not JSON: %q", line, reply)
		}
		if r.JSONRPC != "2.0" || (r.Error.Code != -32700 && r.Error.Code != -32600) {
			t.Fatalf("%q: answer %q", line, reply)
		}
		if string(r.ID) != "null" && !isStringOrNumber(r.ID) {
			t.Fatalf("%q: answer's id %s", line, r.ID)
		}
	})
}
