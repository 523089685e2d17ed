//go:build linux

package inject

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/wsframe"
)

// wsRecord is what the scoped host's WebSocket endpoint saw.
type wsRecord struct {
	mu       sync.Mutex
	upgrades []http.Header
	frames   []string
	replies  []string
	ends     []string
}

// serveWebSocket makes /ws on the scoped server a WebSocket endpoint that
// answers each text frame with "echo:FRAME:NONCE", a nonce the command can
// know only from the reply: the command sending the reply back proves to
// the server that the reply reached it.
func serveWebSocket(t *testing.T, s *server) *wsRecord {
	rec := &wsRecord{}
	prev := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			prev.ServeHTTP(w, r)
			return
		}
		rec.mu.Lock()
		rec.upgrades = append(rec.upgrades, r.Header.Clone())
		rec.mu.Unlock()
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "not a WebSocket upgrade: "+r.Proto, http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		end := func(how string) {
			rec.mu.Lock()
			rec.ends = append(rec.ends, how)
			rec.mu.Unlock()
		}
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wsframe.Accept(r.Header.Get("Sec-WebSocket-Key")))
		brw.Flush()
		for {
			op, p, masked, err := wsframe.Read(brw)
			switch {
			case err != nil:
				end(err.Error())
				return
			case op == wsframe.Close:
				wsframe.Write(c, wsframe.Close, p, false)
				end("close frame")
				return
			case !masked:
				end("an unmasked frame")
				return
			}
			b := make([]byte, 8)
			rand.Read(b)
			reply := fmt.Sprintf("echo:%s:%s", p, hex.EncodeToString(b))
			rec.mu.Lock()
			rec.frames = append(rec.frames, string(p))
			rec.replies = append(rec.replies, reply)
			rec.mu.Unlock()
			wsframe.Write(c, wsframe.Text, []byte(reply), false)
		}
	})
	return rec
}

// TestWebSocketThroughInterceptedHost: a WebSocket client inside `cordon
// run` (probe ws) reaches the scoped host, whose TLS the proxy intercepts.
// Judged by the server: the upgrade request carried the real secret (the
// command sent only its placeholder); the first frame, naming the token
// the command holds, shows the placeholder, not the secret; the echo with
// the server's nonce came back in the second frame; the WebSocket ended
// with a close frame. The secret is in no output and no audit line, and
// the audit records the upgrade as an injected request with status 101.
func TestWebSocketThroughInterceptedHost(t *testing.T) {
	inEveryMode(t, func(t *testing.T, uid int, extra []string) {
		f := newFixture(t, uid, extra)
		rec := serveWebSocket(t, f.scoped)
		r := f.run(probeBin, "ws", f.scopedURL+"/ws")
		if r.code != 0 || !strings.Contains(r.stdout, "status 101") || !strings.Contains(r.stdout, "closed") {
			t.Fatalf("probe ws: exit %d: %s %s", r.code, r.stdout, r.stderr)
		}
		rec.mu.Lock()
		upgrades, frames, replies, ends := rec.upgrades, rec.frames, rec.replies, rec.ends
		rec.mu.Unlock()
		if len(upgrades) != 1 || upgrades[0].Get("Authorization") != "Bearer "+f.secret {
			t.Fatalf("the server got upgrades %v; want one carrying the secret", upgrades)
		}
		if len(frames) != 2 {
			t.Fatalf("the server got frames %q, want 2", frames)
		}
		held, ok := strings.CutPrefix(frames[0], "probe holds ")
		switch {
		case !ok:
			t.Errorf("first frame %q", frames[0])
		case held == f.secret:
			t.Errorf("ESCAPED: the command held the secret")
		case len(held) != len(f.secret) || !strings.HasPrefix(held, "ghp_"):
			t.Errorf("the command held %q, want a placeholder like the secret", held)
		}
		if frames[1] != replies[0] {
			t.Errorf("the second frame %q is not the reply %q: the echo did not reach the command", frames[1], replies[0])
		}
		if len(ends) != 1 || ends[0] != "close frame" {
			t.Errorf("the WebSocket ended by %q, want a close frame", ends)
		}
		for _, out := range f.outputs {
			if strings.Contains(out, f.secret) {
				t.Errorf("ESCAPED: the secret was printed: %s", out)
			}
		}
		f.checkWebSocketAudit(t)
	})
}

// checkWebSocketAudit finds the upgrade in the audit log: an injected
// https request for /ws with status 101; no line holds the secret.
func (f *fixture) checkWebSocketAudit(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(f.home, ".local", "state", "cordon", "audit.jsonl"))
	if err != nil {
		t.Fatalf("reading the audit log: %v", err)
	}
	if bytes.Contains(data, []byte(f.secret)) {
		t.Errorf("ESCAPED: the audit log holds the secret")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Kind, Protocol, Credential, Path string
			Status                           int
			Injected                         bool
			BytesSent                        int64 `json:"bytes_sent"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Kind == "network_connection" && ev.Protocol == "https" && ev.Path == "/ws" {
			if ev.Status != http.StatusSwitchingProtocols || !ev.Injected || ev.Credential != "github" || ev.BytesSent == 0 {
				t.Errorf("the upgrade's audit event: %s", sc.Bytes())
			}
			return
		}
	}
	t.Errorf("the audit log records no upgrade:\n%s", data)
}
