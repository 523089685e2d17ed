package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// TestProtocolVersions: initialize is answered with the client's revision
// when the server speaks it, else with the server's latest.
func TestProtocolVersions(t *testing.T) {
	w := startWire(t, Options{})
	for i, c := range []struct{ asked, want string }{
		{"2025-11-25", "2025-11-25"},
		{"2025-06-18", "2025-06-18"},
		{"2025-03-26", "2025-03-26"},
		{"2024-11-05", "2024-11-05"},
		{"2026-07-28", "2025-11-25"},
		{"2099-01-01", "2025-11-25"},
		{"", "2025-11-25"},
	} {
		// A session is initialized once: each version gets a server.
		if i > 0 {
			w = startWire(t, Options{})
		}
		got := result(t, w.call("1", "initialize", `{"protocolVersion":"`+c.asked+`","capabilities":{},"clientInfo":{"name":"v","version":"0"}}`))
		var r struct{ ProtocolVersion string }
		json.Unmarshal([]byte(got), &r)
		if r.ProtocolVersion != c.want {
			t.Errorf("client asked for %q: answered %q, want %q", c.asked, r.ProtocolVersion, c.want)
		}
	}
}

// TestBeforeInitialize: before initialize, only ping is answered; a
// method the server does not have is not found whatever the state (the
// Go SDK's client asks for server/discover first, and falls back to
// initialize on the error).
func TestBeforeInitialize(t *testing.T) {
	w := startWire(t, Options{})
	for _, c := range []struct{ method, params, want string }{
		{"ping", "", `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{"tools/list", "", `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"invalid request: \"tools/list\" before \"initialize\": the session begins with an initialize request"}}`},
		{"tools/call", `{"name":"run_command","arguments":{"command":"true"}}`, `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"invalid request: \"tools/call\" before \"initialize\": the session begins with an initialize request"}}`},
		{"server/discover", `{}`, `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method not found: \"server/discover\""}}`},
		{"initialize", "", `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid params: \"initialize\" needs params: {\"protocolVersion\": ..., \"capabilities\": {...}, \"clientInfo\": {...}}"}}`},
		{"initialize", `{"protocolVersion":7}`, `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid params: \"protocolVersion\" of \"initialize\" must be a string"}}`},
	} {
		if got := w.call("1", c.method, c.params); got != c.want {
			t.Errorf("%s %s:\n got %s\nwant %s", c.method, c.params, got, c.want)
		}
	}
	// Refused initializes did not initialize the session.
	if got := w.initialize(); !strings.Contains(got, `"protocolVersion":"2025-06-18"`) {
		t.Errorf("initialize after the refused ones: %s", got)
	}
}

// TestWireErrors: each request the server cannot serve gets its JSON-RPC
// error under its id, and the session goes on.
func TestWireErrors(t *testing.T) {
	w := startWire(t, Options{})
	w.initialize()
	for i, c := range []struct{ method, params, want string }{
		{"nope", "", `{"code":-32601,"message":"method not found: \"nope\""}`},
		{"completion/complete", `{}`, `{"code":-32601,"message":"method not found: \"completion/complete\""}`},
		{"resources/read", `{"uri":"file:///etc/passwd"}`, `{"code":-32601,"message":"method not found: \"resources/read\""}`},
		{"initialize", initParams, `{"code":-32600,"message":"invalid request: duplicate \"initialize\": the session is initialized already"}`},
		{"notifications/initialized", "", `{"code":-32600,"message":"invalid request: unexpected id for \"notifications/initialized\": a notification has no id"}`},
		{"notifications/cancelled", `{"requestId":1}`, `{"code":-32600,"message":"invalid request: unexpected id for \"notifications/cancelled\": a notification has no id"}`},
		{"ping", `[]`, `{"code":-32602,"message":"invalid params: the params of \"ping\" must be a JSON object"}`},
		{"ping", `"x"`, `{"code":-32602,"message":"invalid params: the params of \"ping\" must be a JSON object"}`},
		{"tools/list", `{"cursor":"abc"}`, `{"code":-32602,"message":"invalid params: unknown cursor \"abc\": tools/list has a single page"}`},
		{"tools/list", `{"cursor":5}`, `{"code":-32602,"message":"invalid params: \"cursor\" of \"tools/list\" must be a string"}`},
		{"tools/call", "", `{"code":-32602,"message":"invalid params: \"tools/call\" needs params: {\"name\": ..., \"arguments\": {...}}"}`},
		{"tools/call", `"x"`, `{"code":-32602,"message":"invalid params: the params of \"tools/call\" must be a JSON object"}`},
		{"tools/call", `{"name":5}`, `{"code":-32602,"message":"invalid params: \"name\" of \"tools/call\" must be a string"}`},
		{"tools/call", `{"name":"nope","arguments":{}}`, `{"code":-32602,"message":"unknown tool \"nope\""}`},
		{"tools/call", `{"arguments":{"command":"true"}}`, `{"code":-32602,"message":"unknown tool \"\""}`},
		// Member names are exact: "Name" is not "name".
		{"tools/call", `{"Name":"run_command","arguments":{"command":"true"}}`, `{"code":-32602,"message":"unknown tool \"\""}`},
		{"logging/setLevel", "", `{"code":-32602,"message":"invalid params: \"logging/setLevel\" needs params: {\"level\": ...}"}`},
		{"logging/setLevel", `{"level":"bogus"}`, `{"code":-32602,"message":"invalid params: level \"bogus\" is not one of debug, info, notice, warning, error, critical, alert, emergency"}`},
	} {
		id := fmt.Sprint(10 + i)
		want := `{"jsonrpc":"2.0","id":` + id + `,"error":` + c.want + `}`
		if got := w.call(id, c.method, c.params); got != want {
			t.Errorf("%s %s:\n got %s\nwant %s", c.method, c.params, got, want)
		}
	}
	// What the server answers, after all that.
	for _, c := range []struct{ method, params, want string }{
		{"ping", "", `{}`},
		{"ping", `{"_meta":{}}`, `{}`},
		{"logging/setLevel", `{"level":"debug"}`, `{}`},
		{"resources/list", "", `{"resources":[]}`},
		{"resources/templates/list", "", `{"resourceTemplates":[]}`},
		{"prompts/list", `{}`, `{"prompts":[]}`},
		{"tools/list", `{"cursor":""}`, `{"tools":` + golden(t, "tools-list.golden.json") + `}`},
	} {
		if got := result(t, w.call(`"ok"`, c.method, c.params)); got != c.want {
			t.Errorf("%s %s:\n got %.300s\nwant %.300s", c.method, c.params, got, c.want)
		}
	}
	// Responses and unknown notifications need no answer: the next
	// answer is the ping's.
	w.send(`{"jsonrpc":"2.0","id":77,"result":{}}`,
		`{"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":1}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":424242}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":"junk"}`)
	w.send(`{"jsonrpc":"2.0","id":"last","method":"ping"}`)
	if a, before := w.answer(`"last"`); a != `{"jsonrpc":"2.0","id":"last","result":{}}` || len(before) != 0 {
		t.Errorf("ping: %s; lines that needed no answer were answered: %v", a, before)
	}
}

// blockingRun is an Options.Run that records each command it is asked to
// run and holds it until release is closed or its context ends.
type blockingRun struct {
	started chan string   // the command line of each run, as it starts
	ended   chan error    // ctx.Err() (or nil) of each run, as it ends
	release chan struct{} // closed: every run still held ends, exit 0
}

// recvBounded receives from ch, failing the test if nothing comes in a
// minute: a bound on a test that would otherwise hang, not a measure.
func recvBounded[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
		t.Fatalf("waited a minute for the server")
	}
	var zero T
	return zero
}

func newBlockingRun() *blockingRun {
	return &blockingRun{started: make(chan string, 10), ended: make(chan error, 10), release: make(chan struct{})}
}

func (b *blockingRun) run(ctx context.Context, req sandbox.Request) (*sandbox.Result, error) {
	b.started <- req.Argv[len(req.Argv)-1]
	select {
	case <-ctx.Done():
		b.ended <- ctx.Err()
		return nil, ctx.Err()
	case <-b.release:
		b.ended <- nil
		return &sandbox.Result{Report: &report.Report{}}, nil
	}
}

// TestCancelWire: notifications/cancelled ends the call's context (the
// runner sees it), the call is not answered, and the session goes on; a
// request reusing the id of a call in progress is refused.
func TestCancelWire(t *testing.T) {
	b := newBlockingRun()
	w := startWire(t, Options{Run: b.run})
	w.initialize()
	for _, id := range []string{`5`, `"five"`} {
		w.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"run_command","arguments":{"command":"sleep 1000"}}}`)
		recvBounded(t, b.started)
		for _, method := range []string{"tools/call", "ping"} {
			w.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":{"name":"check_command","arguments":{"command":"true"}}}`)
			a, _ := w.answer(id)
			if want := `{"jsonrpc":"2.0","id":` + id + `,"error":{"code":-32600,"message":"invalid request: id ` + strings.ReplaceAll(id, `"`, `\"`) + ` is the id of a call still in progress"}}`; a != want {
				t.Errorf("id reused by %s:\n got %s\nwant %s", method, a, want)
			}
		}
		w.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":` + id + `,"reason":"the user pressed Esc"}}`)
		if err := recvBounded(t, b.ended); !errors.Is(err, context.Canceled) {
			t.Fatalf("call %s: the runner's context ended with %v, want context.Canceled", id, err)
		}
		// The call logs that it is not answered before it returns; after
		// that, anything it wrote would come before the ping's answer.
		waitLog(t, w.log, "call "+id+" was cancelled; not answered")
		w.send(`{"jsonrpc":"2.0","id":"after","method":"ping"}`)
		_, before := w.answer(`"after"`)
		for _, l := range before {
			t.Errorf("a cancelled call was answered: %s", l)
		}
	}
}

// waitLog waits for the server's log to hold want. The server logs as it
// acts, so this waits for an event, not for an amount of time; the bound
// only ends a test that would otherwise hang.
func waitLog(t *testing.T, log *syncLog, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the server never logged %q:\n%s", want, log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentCalls: a call does not wait for another: the first is
// held by the runner until the second has been answered.
func TestConcurrentCalls(t *testing.T) {
	b := newBlockingRun()
	w := startWire(t, Options{Run: b.run})
	w.initialize()
	w.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run_command","arguments":{"command":"first"}}}`)
	if got := recvBounded(t, b.started); got != "first" {
		t.Fatalf("started %q", got)
	}
	// The second call, and a ping, are answered while the first runs.
	w.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"check_command","arguments":{"command":"second"}}}`)
	if a, before := w.answer("2"); !strings.Contains(a, `"decision":"allow"`) || len(before) != 0 {
		t.Fatalf("second call: %s (before it: %v)", a, before)
	}
	close(b.release)
	if a, _ := w.answer("1"); !strings.Contains(a, `"ran":true`) {
		t.Fatalf("first call: %s", a)
	}
}

// TestProgressWire: a call with a progressToken gets progress
// notifications under that token, written as the SDK-based server wrote
// them, and none after its answer; a call without one gets none.
func TestProgressWire(t *testing.T) {
	b := newBlockingRun()
	w := startWire(t, Options{Run: b.run, ProgressEvery: 10 * time.Millisecond})
	w.initialize()
	// The call without a token starts first, so that it runs through
	// every tick the other one sees.
	w.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run_command","arguments":{"command":"quiet"}}}`)
	recvBounded(t, b.started)
	w.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_command","arguments":{"command":"loud"},"_meta":{"progressToken":7}}}`)
	recvBounded(t, b.started)
	for range 3 {
		l := w.next()
		var n struct {
			JSONRPC string `json:"jsonrpc"`
			Method  string `json:"method"`
			Params  struct {
				ProgressToken json.RawMessage `json:"progressToken"`
				Message       string          `json:"message"`
				Progress      *float64        `json:"progress"`
			} `json:"params"`
		}
		if err := json.Unmarshal([]byte(l), &n); err != nil || n.Method != "notifications/progress" ||
			string(n.Params.ProgressToken) != "7" || n.Params.Progress == nil ||
			!strings.HasPrefix(n.Params.Message, "still running after ") || !strings.HasSuffix(n.Params.Message, "; 0 bytes of output so far") {
			t.Fatalf("not a progress notification for token 7: %s", l)
		}
		if !strings.HasPrefix(l, `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"message":"still running after `) {
			t.Errorf("progress notification not written as before: %s", l)
		}
	}
	close(b.release)
	// The answers come in either order; progress for token 7 may come
	// until call 2 is answered, and nothing else.
	answered := map[string]bool{}
	for len(answered) < 2 {
		l := w.next()
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				ProgressToken json.RawMessage `json:"progressToken"`
			} `json:"params"`
		}
		json.Unmarshal([]byte(l), &m)
		switch {
		case m.Method == "notifications/progress" && string(m.Params.ProgressToken) == "7" && !answered["2"]:
		case m.Method == "" && (string(m.ID) == "1" || string(m.ID) == "2") && strings.Contains(l, `"ran":true`):
			answered[string(m.ID)] = true
		default:
			t.Errorf("unexpected line: %s", l)
		}
	}
	recvBounded(t, b.ended)
	recvBounded(t, b.ended)
	// Nothing comes between the answers and the ping's: no notification
	// after an answer.
	w.send(`{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	if _, before := w.answer(`"p"`); len(before) != 0 {
		t.Errorf("lines after the answers: %v", before)
	}
}

// TestWriteErrorEndsTheSession: when the client no longer reads the
// server's output, the session ends with an error rather than going on
// unheard.
func TestWriteErrorEndsTheSession(t *testing.T) {
	w := startWireRaw(t)
	w.outR.Close()
	w.send(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	select {
	case err := <-w.done:
		if err == nil || !strings.Contains(err.Error(), "writing to the client") {
			t.Errorf("ServeStdio returned %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("ServeStdio did not return after its output broke")
	}
}

type rawWire struct {
	in   *os.File
	outR *os.File
	done chan error
}

func startWireRaw(t *testing.T) *rawWire {
	t.Helper()
	f := connectless(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w := &rawWire{in: inW, outR: outR, done: make(chan error, 1)}
	go func() { w.done <- f.ServeStdio(context.Background(), inR, outW); outW.Close() }()
	t.Cleanup(func() { inW.Close() })
	return w
}

func (w *rawWire) send(line string) { w.in.WriteString(line + "\n") }

// connectless is a server with a fresh workspace, not serving yet.
func connectless(t *testing.T) *Server {
	t.Helper()
	root := t.TempDir()
	ws := root + "/proj"
	mkdirs(t, ws)
	srv, err := New(withRun(Options{Policy: withRules(testPolicy(t, ws, root, policy.Flags{}), cmdpolicy.Config{}), Workspace: ws, Home: root}))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestSDKClientInterop: the Go SDK's client, an implementation of MCP
// independent of the server's, drives the server over real pipes in each
// revision the server speaks: initialize, tools/list, tools/call with
// structured content and with a tool error, progress, and cancellation.
func TestSDKClientInterop(t *testing.T) {
	// "" is the SDK's default: it tries server/discover (a later
	// revision), is told the method does not exist, and initializes
	// with 2025-11-25.
	for _, version := range []string{"", "2025-11-25", "2025-06-18", "2025-03-26"} {
		t.Run("version="+version, func(t *testing.T) {
			b := newBlockingRun()
			srv := connectless(t)
			srv.opts.Run = b.run
			srv.opts.ProgressEvery = 10 * time.Millisecond
			var mu sync.Mutex
			var progress []*mcp.ProgressNotificationParams
			gotProgress := make(chan struct{}, 100)
			session := connectSDK(t, srv, &mcp.ClientOptions{
				ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
					mu.Lock()
					progress = append(progress, req.Params)
					mu.Unlock()
					select {
					case gotProgress <- struct{}{}:
					default:
					}
				},
			}, &mcp.ClientSessionOptions{ProtocolVersion: version})
			want := version
			if want == "" {
				want = "2025-11-25"
			}
			init := session.InitializeResult()
			if init.ProtocolVersion != want || init.ServerInfo.Name != "cordon" || init.Capabilities.Tools == nil {
				t.Fatalf("initialize: %+v", init)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			list, err := session.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			if strings.Join(names, " ") != "check_command run_command sandbox_info" {
				t.Errorf("tools: %v", names)
			}
			if err := session.Ping(ctx, nil); err != nil {
				t.Errorf("ping: %v", err)
			}

			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "check_command", Arguments: map[string]any{"argv": []string{"ls", "-l"}}})
			if err != nil || res.IsError {
				t.Fatalf("check_command: %v %+v", err, res)
			}
			var check CheckOutput
			b2, _ := json.Marshal(res.StructuredContent)
			json.Unmarshal(b2, &check)
			if check.Decision != "allow" || len(check.Parts) != 1 || check.Parts[0].Command != "ls -l" {
				t.Errorf("check_command: %s", b2)
			}
			if tc, ok := res.Content[0].(*mcp.TextContent); !ok || tc.Text != string(b2) {
				t.Errorf("text content is not the structured content's JSON: %+v", res.Content)
			}
			res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "run_command", Arguments: map[string]any{"command": "x", "workspace": "/"}})
			if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, `unexpected additional properties ["workspace"]`) {
				t.Errorf("an unknown argument: %v %+v", err, res)
			}

			// Progress, then the answer.
			params := &mcp.CallToolParams{Name: "run_command", Arguments: map[string]any{"command": "long"}}
			params.SetProgressToken("tok")
			answered := make(chan *mcp.CallToolResult, 1)
			go func() {
				res, err := session.CallTool(ctx, params)
				if err != nil {
					t.Errorf("run_command: %v", err)
				}
				answered <- res
			}()
			recvBounded(t, b.started)
			recvBounded(t, gotProgress)
			close(b.release)
			if res := recvBounded(t, answered); res == nil || res.IsError {
				t.Fatalf("run_command: %+v", res)
			}
			mu.Lock()
			p := progress[0]
			mu.Unlock()
			if p.ProgressToken != "tok" || !strings.HasPrefix(p.Message, "still running after") {
				t.Errorf("progress: %+v", p)
			}
			recvBounded(t, b.ended)

			// Cancellation: the client gives up; the runner's context ends.
			b.release = make(chan struct{})
			callCtx, stop := context.WithCancel(ctx)
			gone := make(chan error, 1)
			go func() {
				_, err := session.CallTool(callCtx, &mcp.CallToolParams{Name: "run_command", Arguments: map[string]any{"command": "forever"}})
				gone <- err
			}()
			recvBounded(t, b.started)
			stop()
			if err := recvBounded(t, gone); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled call returned %v", err)
			}
			if err := recvBounded(t, b.ended); !errors.Is(err, context.Canceled) {
				t.Errorf("the runner's context ended with %v, want context.Canceled", err)
			}
			if err := session.Ping(ctx, nil); err != nil {
				t.Errorf("ping after a cancel: %v", err)
			}
		})
	}
}

// TestSchemasMatchTypes: each schema names its type's JSON fields, in
// order, with the JSON type of each field's Go type, and requires those
// without omitempty: what tools/list promises is what the tools send and
// take.
func TestSchemasMatchTypes(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *schema
		v    any
	}{
		{"run input", runInputSchema(), RunInput{}},
		{"run output", runOutputSchema(), RunOutput{}},
		{"check input", checkInputSchema(), CheckInput{}},
		{"check output", checkOutputSchema(), CheckOutput{}},
		{"info input", infoInputSchema(), InfoInput{}},
		{"info output", infoOutputSchema(), InfoOutput{}},
	} {
		matchType(t, c.name, c.s, reflect.TypeOf(c.v))
	}
}

func matchType(t *testing.T, where string, s *schema, typ reflect.Type) {
	t.Helper()
	var want []string
	switch typ.Kind() {
	case reflect.String:
		want = []string{"string"}
	case reflect.Bool:
		want = []string{"boolean"}
	case reflect.Int, reflect.Int64:
		want = []string{"integer"}
	case reflect.Float64:
		want = []string{"number"}
	case reflect.Slice:
		want = []string{"null", "array"}
	case reflect.Struct:
		want = []string{"object"}
	default:
		t.Fatalf("%s: no JSON type for %s", where, typ)
	}
	if !reflect.DeepEqual(s.types, want) {
		t.Errorf("%s: schema type %v, Go type %s", where, s.types, typ)
		return
	}
	switch typ.Kind() {
	case reflect.Slice:
		if s.items == nil {
			t.Errorf("%s: array schema without items", where)
			return
		}
		matchType(t, where+"[]", s.items, typ.Elem())
	case reflect.Struct:
		if !s.closed {
			t.Errorf("%s: object schema admits other properties", where)
		}
		var fields []reflect.StructField
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				fields = append(fields, f)
			}
		}
		if len(fields) != len(s.props) {
			t.Errorf("%s: %d fields, %d properties", where, len(fields), len(s.props))
			return
		}
		for i, f := range fields {
			name, rest, _ := strings.Cut(f.Tag.Get("json"), ",")
			p := s.props[i]
			if p.name != name {
				t.Errorf("%s: property %d is %q, field %s is %q", where, i, p.name, f.Name, name)
				continue
			}
			if required := !strings.Contains(rest, "omitempty"); p.required != required {
				t.Errorf("%s.%s: required %v, omitempty %v", where, name, p.required, !required)
			}
			matchType(t, where+"."+name, p.s, f.Type)
		}
	}
}
