package netproxy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/wsframe"
	"golang.org/x/net/http2"
)

// wsLog is what the WebSocket server behind api.test saw: the upgrade
// requests as they arrived, the frames the clients sent, the replies it
// sent, and how each connection ended.
type wsLog struct {
	mu       sync.Mutex
	upgrades []seen
	frames   []string // text frames received, unmasked
	unmasked int      // frames that arrived without a client's mask
	replies  []string
	ends     []string // "close frame", "eof", "server closed", or the error
	ended    chan struct{}
}

func (l *wsLog) snapshot() (upgrades []seen, frames, replies, ends []string, unmasked int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.upgrades), slices.Clone(l.frames), slices.Clone(l.replies), slices.Clone(l.ends), l.unmasked
}

// serveWebSocket makes /ws on the fixture's api server a WebSocket
// endpoint: it answers each text frame with "echo:" + the frame + ":" + a
// nonce the client can learn only from the reply, so that a client sending
// the reply back proves, to the server, that the reply reached it. After
// closeAfter frames the server sends a close frame and closes the
// connection itself (0: it waits for the client to end). Every other path
// is served as before.
func serveWebSocket(t *testing.T, f *interceptFixture, closeAfter int) *wsLog {
	log := &wsLog{ended: make(chan struct{}, 16)}
	prev := f.api.Config.Handler
	f.api.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			prev.ServeHTTP(w, r)
			return
		}
		log.mu.Lock()
		log.upgrades = append(log.upgrades, seen{r.Method, r.URL.RequestURI(), r.Host, r.Proto, r.Header.Clone(), ""})
		log.mu.Unlock()
		if r.ProtoMajor != 1 || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "not a WebSocket upgrade: "+r.Proto, http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		end := func(how string) {
			c.Close()
			log.mu.Lock()
			log.ends = append(log.ends, how)
			log.mu.Unlock()
			log.ended <- struct{}{}
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wsframe.Accept(r.Header.Get("Sec-WebSocket-Key")))
		if err := brw.Flush(); err != nil {
			end(err.Error())
			return
		}
		for n := 0; ; {
			op, p, masked, err := wsframe.Read(brw)
			switch {
			case err == io.EOF:
				end("eof")
				return
			case err != nil:
				end(err.Error())
				return
			case op == wsframe.Close:
				wsframe.Write(c, wsframe.Close, p, false)
				end("close frame")
				return
			}
			n++
			reply := fmt.Sprintf("echo:%s:%s", p, nonce())
			log.mu.Lock()
			log.frames = append(log.frames, string(p))
			log.replies = append(log.replies, reply)
			if !masked {
				log.unmasked++
			}
			log.mu.Unlock()
			if err := wsframe.Write(c, wsframe.Text, []byte(reply), false); err != nil {
				end(err.Error())
				return
			}
			if n == closeAfter {
				wsframe.Write(c, wsframe.Close, []byte{0x03, 0xe8}, false) // 1000, normal closure
				end("server closed")
				return
			}
		}
	})
	return log
}

func nonce() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// wsClient is a WebSocket client's connection through the proxy.
type wsClient struct {
	conn io.WriteCloser
	br   *bufio.Reader
}

// dialWebSocket opens a CONNECT tunnel to api.test through the proxy,
// speaks TLS (HTTP/1.1 by ALPN) trusting cordon's CA and sends a WebSocket
// upgrade for path with the extra header lines. It returns the response
// and, on 101, the connection to send frames on.
func dialWebSocket(t *testing.T, f *interceptFixture, path string, extra ...string) (*http.Response, *wsClient) {
	t.Helper()
	c := dial(t, f.proxy.addr)
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", f.apiHost, f.apiHost)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	tc := tls.Client(&pendingConn{Conn: c, pending: drain(br)}, &tls.Config{ServerName: "api.test", RootCAs: f.cordonPool(), NextProtos: []string{"http/1.1"}})
	key := wsframe.NewKey()
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", path, f.apiHost, key)
	for _, h := range extra {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(tc, req+"\r\n"); err != nil {
		t.Fatalf("sending the upgrade: %v", err)
	}
	tbr := bufio.NewReader(tc)
	resp, err = http.ReadResponse(tbr, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatalf("reading the upgrade's answer: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, nil
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsframe.Accept(key) {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, wsframe.Accept(key))
	}
	return resp, &wsClient{conn: tc, br: tbr}
}

// exchange sends text, reads the reply and sends the reply back.
func (c *wsClient) exchange(t *testing.T, text string) string {
	t.Helper()
	if err := wsframe.Write(c.conn, wsframe.Text, []byte(text), true); err != nil {
		t.Fatalf("sending a frame: %v", err)
	}
	op, reply, masked, err := wsframe.Read(c.br)
	if err != nil || op != wsframe.Text || masked {
		t.Fatalf("reading the reply: op %d masked %v %v", op, masked, err)
	}
	if err := wsframe.Write(c.conn, wsframe.Text, reply, true); err != nil {
		t.Fatalf("sending the reply back: %v", err)
	}
	if _, _, _, err := wsframe.Read(c.br); err != nil {
		t.Fatalf("reading the second reply: %v", err)
	}
	return string(reply)
}

// waitEvent waits for the proxy to record an event that match accepts,
// without closing the proxy: an upgraded request's event comes when its
// connection has ended.
func waitEvent(t *testing.T, p *testProxy, match func(ConnEvent) bool) ConnEvent {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, ev := range p.events {
			if match(ev) {
				p.mu.Unlock()
				return ev
			}
		}
		p.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("the proxy recorded no such event within 15s: %+v", p.events)
	return ConnEvent{}
}

func isUpgradeEvent(ev ConnEvent) bool { return ev.Protocol == ProtoHTTPS && ev.Path == "/ws" }

// TestInterceptWebSocket: an HTTP/1.1 WebSocket upgrade to an intercepted
// host (which offers HTTP/2 as well) is passed through. The upgrade
// request gets the secret in place of the placeholder; after 101 the
// frames flow both ways unmodified (the placeholder inside a frame stays
// the placeholder); the connection ends cleanly whichever side closes,
// and the request's event records 101 and the bytes. Judged by the
// server's own record.
func TestInterceptWebSocket(t *testing.T) {
	for _, tc := range []struct {
		name       string
		closeAfter int
		wantEnd    string
		h1Only     bool // the host offers only HTTP/1.1
	}{
		{"client closes", 0, "eof", false},
		{"client sends close", -1, "close frame", false},
		{"server closes", 2, "server closed", false},
		{"host without HTTP/2", 0, "eof", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newInterceptFixture(t)
			var conns atomic.Int32
			f.api.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
			if tc.h1Only {
				f.api.TLS.NextProtos = []string{"http/1.1"}
			}
			log := serveWebSocket(t, f, tc.closeAfter)
			resp, ws := dialWebSocket(t, f, "/ws", "Authorization: Bearer "+testPlaceholder)
			if ws == nil {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("the upgrade was answered %s: %s", resp.Status, b)
			}
			text := "hello with " + testPlaceholder
			reply := ws.exchange(t, text)
			if strings.Contains(reply, testSecret) {
				t.Errorf("ESCAPED: a frame brought the secret to the client: %q", reply)
			}
			switch tc.closeAfter {
			case 0:
				ws.conn.Close()
			case -1:
				wsframe.Write(ws.conn, wsframe.Close, []byte{0x03, 0xe8}, true)
				if op, _, _, err := wsframe.Read(ws.br); err != nil || op != wsframe.Close {
					t.Errorf("no close frame in answer: op %d, %v", op, err)
				}
				ws.conn.Close()
			default:
				if op, _, _, err := wsframe.Read(ws.br); err != nil || op != wsframe.Close {
					t.Errorf("the server's close frame did not arrive: op %d, %v", op, err)
				}
				// Then the end of the stream: the proxy passed the
				// server's close on instead of holding the connection.
				if n, err := ws.br.Read(make([]byte, 1)); err == nil {
					t.Errorf("the connection stayed open after the server closed it (read %d bytes)", n)
				}
			}
			select {
			case <-log.ended:
			case <-time.After(15 * time.Second):
				t.Fatal("the server's connection did not end within 15s")
			}
			ev := waitEvent(t, f.proxy, isUpgradeEvent)

			upgrades, frames, replies, ends, unmasked := log.snapshot()
			if len(upgrades) != 1 {
				t.Fatalf("the server got %d upgrade requests", len(upgrades))
			}
			if got := upgrades[0].Header.Get("Authorization"); got != "Bearer "+testSecret {
				t.Errorf("the upgrade request carried Authorization %q, want the secret", got)
			}
			if upgrades[0].Host != f.apiHost || upgrades[0].Proto != "HTTP/1.1" {
				t.Errorf("the upgrade arrived as %s for %s", upgrades[0].Proto, upgrades[0].Host)
			}
			if len(frames) != 2 || frames[0] != text || frames[1] != replies[0] {
				t.Errorf("the server received frames %q after replying %q; want %q and its first reply back", frames, replies, text)
			}
			if unmasked != 0 {
				t.Errorf("%d frames reached the server unmasked: the bytes were rewritten", unmasked)
			}
			if len(ends) != 1 || ends[0] != tc.wantEnd {
				t.Errorf("the server's connection ended by %q, want %q", ends, tc.wantEnd)
			}
			if ev.Status != http.StatusSwitchingProtocols || !ev.Allowed || !ev.Injected || ev.Credential != "github" ||
				ev.BytesSent == 0 || ev.BytesReceived == 0 || ev.Method != "GET" {
				t.Errorf("the upgrade's event: %+v", ev)
			}
			// The connection the proxy made while the client waited for
			// its CONNECT answer carries the upgrade when the host chose
			// HTTP/1.1 on it; else the upgrade needs one of its own.
			if want := map[bool]int32{true: 1, false: 2}[tc.h1Only]; conns.Load() != want {
				t.Errorf("the proxy opened %d connections to the host, want %d", conns.Load(), want)
			}
			noSecretIn(t, f.proxy.eventsAfterClose())
		})
	}
}

// TestInterceptSwitchWithoutUpgrade: a host that answers 101 to a request
// that asked for no upgrade would turn the rest of the connection into
// bytes no rule judges; the client gets 502 instead.
func TestInterceptSwitchWithoutUpgrade(t *testing.T) {
	f := newInterceptFixture(t)
	f.api.TLS.NextProtos = []string{"http/1.1"} // HTTP/2 has no 101
	f.api.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nraw bytes")
		brw.Flush()
	})
	for _, h2 := range []bool{false, true} {
		resp, body := get(t, f.client(f.cordonPool(), h2), "https://"+f.apiHost+"/switch")
		if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "raw bytes") {
			t.Errorf("h2=%v: a switch nobody asked for was answered %s: %s", h2, resp.Status, body)
		}
	}
}

// TestInterceptWebSocketJudged: the upgrade request is a request like any
// other: request rules decide it, and the placeholder outside the
// credential's header refuses it. The server gets nothing.
func TestInterceptWebSocketJudged(t *testing.T) {
	f := newInterceptFixtureWith(t, func(f *interceptFixture, cfg *Config, _ *Options) {
		cfg.Requests = []RequestRule{{Name: "no-sockets", Host: f.apiHost, Path: "/ws", Decision: RequestDeny}}
	})
	log := serveWebSocket(t, f, 0)
	for _, tc := range []struct {
		path, header, want string
	}{
		{"/ws", "Authorization: Bearer " + testPlaceholder, `rule=network.requests "no-sockets"`},
		{"/chat", "Sec-WebSocket-Protocol: chat, " + testPlaceholder, "placeholder"},
	} {
		resp, ws := dialWebSocket(t, f, tc.path, tc.header)
		if ws != nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s %s: %s, want 403", tc.path, tc.header, resp.Status)
		}
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(resp.Header.Get("X-Cordon-Denied")+string(b), tc.want) {
			t.Errorf("%s: the refusal does not say %q: %s %s", tc.path, tc.want, resp.Header.Get("X-Cordon-Denied"), b)
		}
	}
	if upgrades, _, _, _, _ := log.snapshot(); len(upgrades) != 0 {
		t.Errorf("the server got refused upgrades: %+v", upgrades)
	}
}

// TestInterceptWebSocketHTTP2: Go's net/http (go.mod's version) implements
// WebSocket over HTTP/2 (extended CONNECT, RFC 8441) only behind
// GODEBUG=http2xconnect=1, so the interceptor does not announce it: its
// SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL, a client that tries it
// learns that the proxy does not support it, and a client that spoke
// HTTP/2 opens its WebSocket over HTTP/1.1 instead, which works.
func TestInterceptWebSocketHTTP2(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		t.Skip("GODEBUG=http2xconnect=1 is set; TestExtendedConnectRefusedWhenAnnounced covers that")
	}
	f := newInterceptFixture(t)
	log := serveWebSocket(t, f, 0)

	// 1. What the interceptor announces.
	tc := tlsToAPI(t, f, "h2")
	fr := http2.NewFramer(tc, tc)
	io.WriteString(tc, http2.ClientPreface)
	fr.WriteSettings()
	frame, err := fr.ReadFrame()
	if err != nil {
		t.Fatalf("reading the proxy's SETTINGS: %v", err)
	}
	sf, ok := frame.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("the proxy's first frame is %T, not SETTINGS", frame)
	}
	if v, ok := sf.Value(http2.SettingEnableConnectProtocol); ok && v != 0 {
		t.Errorf("the interceptor announces SETTINGS_ENABLE_CONNECT_PROTOCOL=%d, but passes no extended CONNECT through", v)
	}
	tc.Close()

	// 2. A client that tries RFC 8441 anyway is told no, and nothing
	// reaches the host.
	tc = tlsToAPI(t, f, "h2")
	cc, err := (&http2.Transport{}).NewClientConn(tc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodConnect, "https://"+f.apiHost+"/ws", nil)
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := cc.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Errorf("an extended CONNECT was answered %s; want it refused before it is sent", resp.Status)
	} else if !strings.Contains(err.Error(), "extended connect not supported") {
		t.Errorf("an extended CONNECT failed with %v; want the peer's lack of support", err)
	}
	cc.Close()

	// 3. The fallback: one Go client, first a request over HTTP/2, then
	// the upgrade, which net/http sends over a connection of its own
	// with HTTP/1.1.
	c := f.client(f.cordonPool(), true)
	c.Timeout = 0 // a timeout would wrap the upgraded body in a read-only one
	r, _ := get(t, c, "https://"+f.apiHost+"/first")
	if r.ProtoMajor != 2 {
		t.Fatalf("the first request went over %s, want HTTP/2", r.Proto)
	}
	up, _ := http.NewRequest(http.MethodGet, "https://"+f.apiHost+"/ws", nil)
	key := wsframe.NewKey()
	up.Header.Set("Connection", "Upgrade")
	up.Header.Set("Upgrade", "websocket")
	up.Header.Set("Sec-WebSocket-Key", key)
	up.Header.Set("Sec-WebSocket-Version", "13")
	resp, err = c.Do(up)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsframe.Accept(key) {
		t.Fatalf("the upgrade after HTTP/2 was answered %s %v", resp.Status, resp.Header)
	}
	rwc := resp.Body.(io.ReadWriteCloser)
	ws := &wsClient{conn: rwc, br: bufio.NewReader(rwc)}
	ws.exchange(t, "after h2")
	rwc.Close()
	<-log.ended
	upgrades, frames, replies, _, _ := log.snapshot()
	if len(upgrades) != 1 || upgrades[0].Header.Get("Authorization") != "Bearer "+testSecret {
		t.Errorf("the server got upgrades %+v; want one, with the secret", upgrades)
	}
	if len(frames) != 2 || frames[1] != replies[0] {
		t.Errorf("frames %q, replies %q", frames, replies)
	}
}

// tlsToAPI opens a CONNECT tunnel to api.test and speaks TLS over it,
// offering protos by ALPN and trusting cordon's CA.
func tlsToAPI(t *testing.T, f *interceptFixture, protos ...string) *tls.Conn {
	t.Helper()
	c := dial(t, f.proxy.addr)
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", f.apiHost, f.apiHost)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	tc := tls.Client(&pendingConn{Conn: c, pending: drain(br)}, &tls.Config{ServerName: "api.test", RootCAs: f.cordonPool(), NextProtos: protos})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if got := tc.ConnectionState().NegotiatedProtocol; len(protos) > 0 && got != protos[0] {
		t.Fatalf("negotiated %q, want %q", got, protos[0])
	}
	return tc
}

// TestExtendedConnectRefusedWhenAnnounced: should net/http announce RFC
// 8441 (GODEBUG=http2xconnect=1, or a later Go release by default), an
// extended CONNECT reaches the interceptor, which refuses it with 403 and
// a reason instead of passing an unjudged stream on. The test runs itself
// again with that GODEBUG, which net/http reads only at start.
func TestExtendedConnectRefusedWhenAnnounced(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExtendedConnectRefusedWhenAnnounced$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestExtendedConnectRefusedWhenAnnounced") {
			t.Fatalf("with GODEBUG=http2xconnect=1: %v\n%s", err, out)
		}
		return
	}
	f := newInterceptFixture(t)
	log := serveWebSocket(t, f, 0)
	cc, err := (&http2.Transport{}).NewClientConn(tlsToAPI(t, f, "h2"))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	req, _ := http.NewRequest(http.MethodConnect, "https://"+f.apiHost+"/ws", nil)
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Authorization", "Bearer "+testPlaceholder)
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatalf("with the setting announced, the extended CONNECT failed: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "extended CONNECT") {
		t.Errorf("the extended CONNECT was answered %s: %s", resp.Status, b)
	}
	if upgrades, _, _, _, _ := log.snapshot(); len(upgrades) != 0 || len(f.api.requests()) != 0 {
		t.Errorf("the server got %d upgrades and %d requests", len(upgrades), len(f.api.requests()))
	}
}
