package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// This file is the Model Context Protocol as the server speaks it, on top
// of the JSON-RPC messages the transport (stdio.go) reads: the lifecycle
// (initialize, notifications/initialized, ping), tools/list, tools/call
// with progress and cancellation, and logging/setLevel.

// protocolVersions are the MCP revisions the server speaks, newest first:
// those the Go SDK's server spoke, up to the last one that begins a
// session with initialize. Nothing the server does differs between them:
// fields a revision does not know (titles, output schemas, structured
// content) are ignored by its clients.
var protocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// negotiate is the revision to answer initialize with: the client's when
// the server speaks it, the server's latest otherwise (the client then
// decides whether it can go on).
func negotiate(client string) string {
	for _, v := range protocolVersions {
		if v == client {
			return v
		}
	}
	return protocolVersions[0]
}

// JSON-RPC 2.0's error codes.
const (
	codeParseError     = -32700 // not JSON
	codeInvalidRequest = -32600 // JSON, but not a request
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeInternalError  = -32603
)

// message is one JSON-RPC message from the client.
type message struct {
	// id is a request's id, a string or a number as written; nil for a
	// notification, and for a response.
	id json.RawMessage
	// method is "" for a response.
	method string
	// params is nil when absent or null.
	params json.RawMessage
}

// rpcError is a JSON-RPC error answer.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return e.Message }

func invalidParams(format string, args ...any) *rpcError {
	return &rpcError{Code: codeInvalidParams, Message: "invalid params: " + fmt.Sprintf(format, args...)}
}

// response is one answer, written on one line.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

type initializeResult struct {
	Capabilities    capabilities `json:"capabilities"`
	Instructions    string       `json:"instructions"`
	ProtocolVersion string       `json:"protocolVersion"`
	ServerInfo      serverInfo   `json:"serverInfo"`
}

type capabilities struct {
	Tools struct {
		// ListChanged: the list never changes, so the notification is
		// never sent; true is what the server has always said.
		ListChanged bool `json:"listChanged"`
	} `json:"tools"`
}

type serverInfo struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Version string `json:"version"`
}

// tool is one tool: what tools/list says of it, and its handler.
type tool struct {
	Annotations  *toolAnnotations `json:"annotations,omitempty"`
	Description  string           `json:"description"`
	InputSchema  *schema          `json:"inputSchema"`
	Name         string           `json:"name"`
	OutputSchema *schema          `json:"outputSchema"`
	Title        string           `json:"title"`

	handle func(ctx context.Context, c *call, args json.RawMessage) (any, error)
}

type toolAnnotations struct {
	IdempotentHint bool `json:"idempotentHint"`
	ReadOnlyHint   bool `json:"readOnlyHint,omitempty"`
}

// handler adapts a typed tool handler: the arguments, already checked
// against the tool's input schema, decode into In.
func handler[In, Out any](h func(context.Context, *call, In) (Out, error)) func(context.Context, *call, json.RawMessage) (any, error) {
	return func(ctx context.Context, c *call, args json.RawMessage) (any, error) {
		var in In
		if err := json.Unmarshal(args, &in); err != nil {
			return nil, fmt.Errorf("decoding \"arguments\": %v", err)
		}
		return h(ctx, c, in)
	}
}

// toolResult is what tools/call answers.
type toolResult struct {
	Content           []textContent   `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError,omitempty"`
}

type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// errorResult is a tool's failure: the model reads the text and can try
// again (isError), unlike a JSON-RPC error, which is the client's.
func errorResult(err error) toolResult {
	return toolResult{Content: []textContent{{Type: "text", Text: err.Error()}}, IsError: true}
}

// structured encodes a tool's output as the structured content, with
// the same JSON as text for clients that read only text. Objects have
// their keys sorted, as the SDK-based server wrote them.
func structured(out any) (toolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return toolResult{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return toolResult{}, err
	}
	if b, err = json.Marshal(v); err != nil {
		return toolResult{}, err
	}
	return toolResult{Content: []textContent{{Type: "text", Text: string(b)}}, StructuredContent: b}, nil
}

// call is one tools/call in progress, as its tool sees it.
type call struct {
	// progressToken is the client's token, a string or a number as
	// written; nil when the client asked for no progress.
	progressToken json.RawMessage
	sess          *session
}

type progressParams struct {
	ProgressToken json.RawMessage `json:"progressToken"`
	Message       string          `json:"message,omitempty"`
	Progress      float64         `json:"progress"`
}

// wantsProgress says whether the client asked for progress notifications.
func (c *call) wantsProgress() bool { return c != nil && c.progressToken != nil }

// progress sends a progress notification, unless ctx (the call's) has
// ended: no notification follows the answer.
func (c *call) progress(ctx context.Context, progress float64, message string) error {
	if !c.wantsProgress() || ctx.Err() != nil {
		return nil
	}
	return c.sess.send(notification{JSONRPC: "2.0", Method: "notifications/progress",
		Params: progressParams{ProgressToken: c.progressToken, Message: message, Progress: progress}})
}

// session is one client's session.
type session struct {
	s    *Server
	conn *stdioConn

	mu          sync.Mutex
	initialized bool // initialize was answered
	ready       bool // notifications/initialized came
	// calls are the tools/call requests in progress, by idKey.
	calls map[string]context.CancelFunc
}

// ServeStdio serves one client over newline-delimited JSON-RPC: one
// message per line read from in, one per line written to out (the
// process's standard input and output). A Server serves one client.
//
// A line that is not a message is answered with a JSON-RPC error and the
// next line is read:
//
//   - a line that is not UTF-8, or not exactly one JSON value: -32700
//     (parse error), id null, data {"offset": N}: the offset of the first
//     byte that cannot be there, or the line's length when it ends early;
//   - a batch (a JSON array): -32600 (invalid request), id null. Batches
//     exist only in MCP's 2025-03-26 revision; 2025-06-18 removed them;
//   - JSON that is not a JSON-RPC 2.0 request, notification or response:
//     -32600, with the request's id when it is a request whose id could be
//     read, so that the client's call ends instead of waiting;
//   - a line longer than MaxLineBytes: -32600, data {"limit": MaxLineBytes,
//     "length": N}, with the request's id when the line's first 64 KiB
//     show it, for the same reason.
//
// Empty lines, and lines of JSON whitespace, are skipped without an answer.
// A trailing carriage return (CRLF line ends) is whitespace. Every refused
// line is logged with its length and the reason, never in full.
//
// Requests are answered as MCP says, with -32601 (method not found) for a
// method the server does not have and -32602 (invalid params) for params
// it cannot use. Tool calls run concurrently; notifications/cancelled
// cancels one. ServeStdio returns at the end of the input (nil), when ctx
// ends (nil), or when writing to out fails; when it returns, every
// command a call started has been killed and waited for.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	conn := newStdioConn(in, out, MaxLineBytes, s.logf)
	defer conn.Close()
	defer func() {
		// Calls in progress end with the session: each kills its command.
		s.stop()
		s.runs.Wait()
	}()
	sess := &session{s: s, conn: conn, calls: map[string]context.CancelFunc{}}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-conn.broken:
			return fmt.Errorf("writing to the client: %w", err)
		case r := <-conn.incoming:
			if r.err != nil {
				if errors.Is(r.err, io.EOF) {
					return nil
				}
				return fmt.Errorf("reading from the client: %w", r.err)
			}
			sess.handle(r.msg)
		}
	}
}

// send writes one message. A failure to write ends the session
// (conn.broken).
func (ss *session) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding a message for the client: %w", err)
	}
	return ss.conn.writeLine(append(b, '\n'))
}

func (ss *session) reply(id json.RawMessage, result any, rerr *rpcError) {
	r := response{JSONRPC: "2.0", ID: id}
	if rerr != nil {
		r.Error = rerr
	} else {
		r.Result = result
	}
	b, err := json.Marshal(r)
	if err != nil {
		ss.s.logf("encoding the answer to request %s: %v", oneLine(string(id)), err)
		b, _ = json.Marshal(response{JSONRPC: "2.0", ID: id,
			Error: &rpcError{Code: codeInternalError, Message: "internal error: the answer could not be encoded"}})
	}
	ss.conn.writeLine(append(b, '\n')) //nolint:errcheck // a write error ends the session
}

// handle acts on one message. It runs in the session's loop, one message
// at a time in the order they came; only tool calls run on their own.
func (ss *session) handle(m *message) {
	switch {
	case m.method == "":
		// A response: the server sends no requests, so none is awaited.
		ss.s.logf("ignored a response from the client: the server sends no requests")
	case m.id == nil:
		ss.notification(m)
	default:
		ss.request(m)
	}
}

func (ss *session) notification(m *message) {
	switch m.method {
	case "notifications/initialized":
		ss.mu.Lock()
		init, dup := ss.initialized, ss.ready
		ss.ready = init
		ss.mu.Unlock()
		if !init {
			ss.s.logf("the client sent notifications/initialized before initialize")
		} else if dup {
			ss.s.logf("the client sent notifications/initialized twice")
		}
	case "notifications/cancelled":
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
			Reason    string          `json:"reason"`
		}
		members, rerr := paramsObject(m)
		if rerr == nil {
			p.RequestID = members["requestId"]
			json.Unmarshal(members["reason"], &p.Reason) //nolint:errcheck // the reason is only logged
		}
		key := idKey(p.RequestID)
		if key == "" {
			ss.s.logf("ignored notifications/cancelled without a requestId that is a string or a number")
			return
		}
		ss.mu.Lock()
		cancel := ss.calls[key]
		ss.mu.Unlock()
		if cancel == nil {
			// Finished already, or never a tool call (initialize cannot
			// be cancelled; the rest are answered at once).
			return
		}
		ss.s.logf("the client cancelled call %s (%s)", oneLine(string(p.RequestID)), oneLine(p.Reason))
		cancel()
	default:
		// Other notifications (progress, roots/list_changed, ...) need
		// nothing from this server.
	}
}

// known says whether the server answers requests for method. (A switch,
// not a map: a map would be built at every start of every cordon
// process.)
func known(method string) bool {
	switch method {
	case "initialize", "ping", "tools/list", "tools/call", "logging/setLevel":
		return true
	case "resources/list", "resources/templates/list", "prompts/list":
		// The server has no resources and no prompts and does not say it
		// has (capabilities); clients that ask anyway get empty lists, as
		// they did from the SDK-based server.
		return true
	}
	return false
}

func (ss *session) request(m *message) {
	if strings.HasPrefix(m.method, "notifications/") {
		ss.reply(m.id, nil, &rpcError{Code: codeInvalidRequest, Message: fmt.Sprintf("invalid request: unexpected id for %q: a notification has no id", m.method)})
		return
	}
	if !known(m.method) {
		ss.reply(m.id, nil, &rpcError{Code: codeMethodNotFound, Message: fmt.Sprintf("method not found: %q", m.method)})
		return
	}
	ss.mu.Lock()
	init := ss.initialized
	_, busy := ss.calls[idKey(m.id)]
	ss.mu.Unlock()
	if busy {
		// Its answer could be taken for the call's.
		ss.reply(m.id, nil, &rpcError{Code: codeInvalidRequest, Message: fmt.Sprintf("invalid request: id %s is the id of a call still in progress", m.id)})
		return
	}
	if !init && m.method != "initialize" && m.method != "ping" {
		ss.reply(m.id, nil, &rpcError{Code: codeInvalidRequest,
			Message: fmt.Sprintf("invalid request: %q before \"initialize\": the session begins with an initialize request", m.method)})
		return
	}
	var result any
	var rerr *rpcError
	switch m.method {
	case "initialize":
		result, rerr = ss.initialize(m)
	case "ping":
		_, rerr = paramsObject(m)
		result = struct{}{}
	case "tools/list":
		result, rerr = ss.listTools(m)
	case "tools/call":
		ss.callTool(m)
		return
	case "logging/setLevel":
		rerr = setLevel(m)
		result = struct{}{}
	case "resources/list":
		result = struct {
			Resources []struct{} `json:"resources"`
		}{[]struct{}{}}
	case "resources/templates/list":
		result = struct {
			ResourceTemplates []struct{} `json:"resourceTemplates"`
		}{[]struct{}{}}
	case "prompts/list":
		result = struct {
			Prompts []struct{} `json:"prompts"`
		}{[]struct{}{}}
	}
	ss.reply(m.id, result, rerr)
}

// paramsObject returns the params of m, which must be absent, null or a
// JSON object, by member name (exact: names are case-sensitive).
func paramsObject(m *message) (map[string]json.RawMessage, *rpcError) {
	if m.params == nil {
		return map[string]json.RawMessage{}, nil
	}
	var members map[string]json.RawMessage
	if jsonType(m.params) != "object" || json.Unmarshal(m.params, &members) != nil {
		return nil, invalidParams("the params of %q must be a JSON object", m.method)
	}
	return members, nil
}

// stringParam reads an optional string member.
func stringParam(m *message, members map[string]json.RawMessage, name string) (string, *rpcError) {
	v, ok := members[name]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var s string
	if jsonType(v) != "string" || json.Unmarshal(v, &s) != nil {
		return "", invalidParams("%q of %q must be a string", name, m.method)
	}
	return s, nil
}

func (ss *session) initialize(m *message) (any, *rpcError) {
	if m.params == nil {
		return nil, invalidParams(`"initialize" needs params: {"protocolVersion": ..., "capabilities": {...}, "clientInfo": {...}}`)
	}
	members, rerr := paramsObject(m)
	if rerr != nil {
		return nil, rerr
	}
	asked, rerr := stringParam(m, members, "protocolVersion")
	if rerr != nil {
		return nil, rerr
	}
	ss.mu.Lock()
	dup := ss.initialized
	ss.initialized = true
	ss.mu.Unlock()
	if dup {
		return nil, &rpcError{Code: codeInvalidRequest, Message: `invalid request: duplicate "initialize": the session is initialized already`}
	}
	version := negotiate(asked)
	var client struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	json.Unmarshal(members["clientInfo"], &client) //nolint:errcheck // only logged
	ss.s.logf("client %q %q asked for protocol %q; speaking %s", oneLine(client.Name), oneLine(client.Version), oneLine(asked), version)
	res := initializeResult{
		Instructions:    instructions,
		ProtocolVersion: version,
		ServerInfo:      serverInfo{Name: "cordon", Title: "cordon sandbox", Version: ss.s.opts.Version},
	}
	res.Capabilities.Tools.ListChanged = true
	return res, nil
}

func (ss *session) listTools(m *message) (any, *rpcError) {
	members, rerr := paramsObject(m)
	if rerr != nil {
		return nil, rerr
	}
	cursor, rerr := stringParam(m, members, "cursor")
	if rerr != nil {
		return nil, rerr
	}
	if cursor != "" {
		// There is one page, and it has no cursor to come back with.
		return nil, invalidParams("unknown cursor %q: tools/list has a single page", oneLine(cursor))
	}
	return struct {
		Tools json.RawMessage `json:"tools"`
	}{ss.s.toolsJSON}, nil
}

// logLevels are the levels of logging/setLevel (RFC 5424's).
var logLevels = []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

// setLevel accepts a valid level. The server sends no log messages to the
// client (its log is standard error, for the human), so there is nothing
// to filter; clients that set a level anyway are answered as before.
func setLevel(m *message) *rpcError {
	if m.params == nil {
		return invalidParams(`"logging/setLevel" needs params: {"level": ...}`)
	}
	members, rerr := paramsObject(m)
	if rerr != nil {
		return rerr
	}
	level, rerr := stringParam(m, members, "level")
	if rerr != nil {
		return rerr
	}
	if !contains(logLevels, level) {
		return invalidParams("level %q is not one of %s", oneLine(level), strings.Join(logLevels, ", "))
	}
	return nil
}

// callTool starts a tools/call: a call runs on its own, so that others,
// and cancellations, are read while it runs.
func (ss *session) callTool(m *message) {
	if m.params == nil {
		ss.reply(m.id, nil, invalidParams(`"tools/call" needs params: {"name": ..., "arguments": {...}}`))
		return
	}
	members, rerr := paramsObject(m)
	if rerr != nil {
		ss.reply(m.id, nil, rerr)
		return
	}
	name, rerr := stringParam(m, members, "name")
	if rerr != nil {
		ss.reply(m.id, nil, rerr)
		return
	}
	t := ss.s.tool(name)
	if t == nil {
		ss.reply(m.id, nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("unknown tool %q", name)})
		return
	}
	c := &call{sess: ss}
	var meta map[string]json.RawMessage
	if json.Unmarshal(members["_meta"], &meta) == nil {
		if tok := meta["progressToken"]; isStringOrNumber(tok) {
			c.progressToken = tok
		}
	}
	key := idKey(m.id)
	ctx, cancel := context.WithCancel(ss.s.base)
	// request made sure no call in progress has this id; the session
	// handles one message at a time.
	ss.mu.Lock()
	ss.calls[key] = cancel
	ss.mu.Unlock()
	args := members["arguments"]
	ss.s.runs.Add(1)
	go func() {
		defer ss.s.runs.Done()
		res, rerr := ss.s.runTool(ctx, t, c, args)
		// A call cancelled (by the client, or by the session's end) is
		// not answered: MCP says so, and no one waits for it.
		cancelled := ctx.Err() != nil
		ss.mu.Lock()
		delete(ss.calls, key)
		ss.mu.Unlock()
		cancel()
		if cancelled {
			ss.s.logf("%s: call %s was cancelled; not answered", t.Name, oneLine(string(m.id)))
			return
		}
		ss.reply(m.id, res, rerr)
	}()
}

// runTool checks the arguments, runs the tool and encodes its result.
func (s *Server) runTool(ctx context.Context, t *tool, c *call, args json.RawMessage) (any, *rpcError) {
	args, err := t.InputSchema.checkArguments(args)
	if err != nil {
		return errorResult(err), nil
	}
	out, err := t.handle(ctx, c, args)
	if err != nil {
		return errorResult(err), nil
	}
	res, err := structured(out)
	if err != nil {
		s.logf("%s: encoding the result: %v", t.Name, err)
		return nil, &rpcError{Code: codeInternalError, Message: "internal error: the tool's result could not be encoded"}
	}
	return res, nil
}

// idKey is a request id as a map key: strings and numbers never collide,
// and a number is its text as written. "" for what is not an id.
func idKey(id json.RawMessage) string {
	switch {
	case len(id) == 0:
		return ""
	case id[0] == '"':
		var s string
		if json.Unmarshal(id, &s) != nil {
			return ""
		}
		return "s" + s
	case isStringOrNumber(id):
		return "n" + string(id)
	}
	return ""
}
