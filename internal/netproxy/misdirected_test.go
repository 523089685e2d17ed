package netproxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestInterceptOtherHostOnConnection: on one HTTP/1.1 connection to an
// intercepted host, each request is judged on its own, whether the client
// waits for each answer (keep-alive) or writes them all first
// (pipelining). A request naming another host (its Host header, or its
// absolute URL, which wins over the header) is refused with 421 and
// recorded, with the credential whose placeholder it carried; the
// connection goes on serving the requests for its own host, which alone
// get the secret. Judged by what both servers received.
func TestInterceptOtherHostOnConnection(t *testing.T) {
	for _, pipelined := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) {
			f := newInterceptFixture(t)
			api, other := f.apiHost, f.otherHost
			auth := "Authorization: Bearer " + testPlaceholder + "\r\n"
			smuggled := "GET /smuggled HTTP/1.1\r\nHost: " + api + "\r\n" + auth + "\r\n"
			steps := []struct {
				raw    string
				status int
				cred   string // the credential the event names
			}{
				{"GET /k0 HTTP/1.1\r\nHost: " + api + "\r\n" + auth + "\r\n", 200, "github"},
				{"GET /k1 HTTP/1.1\r\nHost: " + other + "\r\n" + auth + "\r\n", 421, "github"},
				{"GET https://" + other + "/k2 HTTP/1.1\r\nHost: " + api + "\r\n\r\n", 421, ""},
				{"GET https://" + api + "/k3 HTTP/1.1\r\nHost: " + other + "\r\n\r\n", 200, "github"},
				// A refused request's body is consumed, never read as the
				// next request.
				{"POST /k4 HTTP/1.1\r\nHost: " + other + "\r\nContent-Length: " + strconv.Itoa(len(smuggled)) + "\r\n\r\n" + smuggled, 421, ""},
				{"GET /k5 HTTP/1.1\r\nHost: " + strings.ToUpper(api) + "\r\n" + auth + "\r\n", 200, "github"},
				{"GET /k6 HTTP/1.1\r\nHost: api.test\r\n" + auth + "\r\n", 421, "github"}, // no port: 443, not the tunnel's
				{"GET /k7 HTTP/1.1\r\nHost: " + api + "\r\n\r\n", 200, "github"},
			}
			c := dial(t, f.proxy.addr)
			defer c.Close()
			fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", api, api)
			br := bufio.NewReader(c)
			if resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect}); err != nil || resp.StatusCode != 200 {
				t.Fatalf("CONNECT: %v %v", resp, err)
			}
			tc := tls.Client(&pendingConn{Conn: c, pending: drain(br)}, &tls.Config{ServerName: "api.test", RootCAs: f.cordonPool(), NextProtos: []string{"http/1.1"}})
			tbr := bufio.NewReader(tc)
			read := func(i int) {
				resp, err := http.ReadResponse(tbr, nil)
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != steps[i].status {
					t.Errorf("request %d: %s, want %d: %s", i, resp.Status, steps[i].status, body)
				}
				if resp.StatusCode == 421 {
					if d := resp.Header.Get("X-Cordon-Denied"); !strings.Contains(d, "host=api.test:"+strconv.Itoa(f.api.port)) || !strings.Contains(string(body), "opened to") {
						t.Errorf("request %d: the refusal does not say why: %q %s", i, d, body)
					}
				}
			}
			if pipelined {
				var all bytes.Buffer
				for _, s := range steps {
					all.WriteString(s.raw)
				}
				if _, err := tc.Write(all.Bytes()); err != nil {
					t.Fatal(err)
				}
				for i := range steps {
					read(i)
				}
			} else {
				for i, s := range steps {
					if _, err := io.WriteString(tc, s.raw); err != nil {
						t.Fatal(err)
					}
					read(i)
				}
			}
			tc.Close()

			// The servers' record: only the requests for api.test, each
			// with the secret, and no other Host at all.
			var paths []string
			for _, r := range f.api.requests() {
				paths = append(paths, r.Path)
				if !strings.EqualFold(r.Host, api) {
					t.Errorf("ESCAPED: %s reached api.test's server with Host %q", r.Path, r.Host)
				}
				if got := r.Header.Get("Authorization"); got != "Bearer "+testSecret {
					t.Errorf("%s: Authorization %q, want the secret", r.Path, got)
				}
			}
			if got := strings.Join(paths, ","); got != "/k0,/k3,/k5,/k7" {
				t.Errorf("api.test's server got %s, want /k0,/k3,/k5,/k7", got)
			}
			if n := len(f.other.requests()); n != 0 {
				t.Errorf("other.test's server got %d requests", n)
			}

			evs := f.proxy.eventsAfterClose()
			noSecretIn(t, evs)
			var reqs []ConnEvent
			tunnels := 0
			for _, ev := range evs {
				switch ev.Protocol {
				case ProtoHTTPS:
					reqs = append(reqs, ev)
				case ProtoConnect:
					tunnels++
				}
			}
			if tunnels != 1 || len(reqs) != len(steps) {
				t.Fatalf("%d tunnels and %d request events, want 1 and %d: %+v", tunnels, len(reqs), len(steps), evs)
			}
			for i, ev := range reqs {
				want := steps[i]
				if ev.Status != want.status || ev.Allowed != (want.status == 200) || ev.Credential != want.cred || ev.Injected != (want.status == 200) {
					t.Errorf("event %d: status %d allowed %v credential %q injected %v; want %d, %q: %+v", i, ev.Status, ev.Allowed, ev.Credential, ev.Injected, want.status, want.cred, ev)
				}
				if want.status == 421 && !strings.Contains(ev.Reason, "is not api.test:") {
					t.Errorf("event %d: reason %q", i, ev.Reason)
				}
			}
		})
	}
}

// TestInterceptOtherAuthorityOnHTTP2: on one HTTP/2 connection, each
// stream is judged on its own: a stream whose :authority names another
// host, or that carries a Host header naming one besides the right
// :authority, is refused with 421 and recorded; the others are served.
func TestInterceptOtherAuthorityOnHTTP2(t *testing.T) {
	f := newInterceptFixture(t)
	tc := tlsToAPI(t, f, "h2")
	fr := http2.NewFramer(tc, tc)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	io.WriteString(tc, http2.ClientPreface)
	fr.WriteSettings()
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	type stream struct {
		authority, host, path string
		status                int
	}
	streams := map[uint32]*stream{
		1: {f.apiHost, "", "/s1", 200},
		3: {f.otherHost, "", "/s3", 421},
		5: {f.apiHost, f.otherHost, "/s5", 421},
		7: {f.apiHost, f.apiHost, "/s7", 200},
	}
	for _, id := range []uint32{1, 3, 5, 7} {
		s := streams[id]
		hbuf.Reset()
		for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", s.authority}, {":path", s.path}, {"authorization", "Bearer " + testPlaceholder}} {
			enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
		}
		if s.host != "" {
			enc.WriteField(hpack.HeaderField{Name: "host", Value: s.host})
		}
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[uint32]int{}
	for len(got) < len(streams) {
		frame, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the answers (have %v): %v", got, err)
		}
		switch fm := frame.(type) {
		case *http2.SettingsFrame:
			if !fm.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			got[fm.StreamID], _ = strconv.Atoi(fm.PseudoValue("status"))
		case *http2.RSTStreamFrame:
			t.Fatalf("stream %d was reset (%v) instead of answered", fm.StreamID, fm.ErrCode)
		case *http2.GoAwayFrame:
			t.Fatalf("the proxy went away: %v", fm.ErrCode)
		}
	}
	tc.Close()
	for id, s := range streams {
		if got[id] != s.status {
			t.Errorf("stream %d (:authority %s, Host %q): status %d, want %d", id, s.authority, s.host, got[id], s.status)
		}
	}
	var paths []string
	for _, r := range f.api.requests() {
		paths = append(paths, r.Path)
		if r.Host != f.apiHost || r.Header.Get("Authorization") != "Bearer "+testSecret {
			t.Errorf("%s reached the server with Host %q, Authorization %q", r.Path, r.Host, r.Header.Get("Authorization"))
		}
	}
	if strings.Join(paths, ",") != "/s1,/s7" && strings.Join(paths, ",") != "/s7,/s1" {
		t.Errorf("the server got %v, want /s1 and /s7", paths)
	}
	if n := len(f.other.requests()); n != 0 {
		t.Errorf("other.test's server got %d requests", n)
	}
	refused := 0
	for _, ev := range f.proxy.eventsAfterClose() {
		if ev.Protocol == ProtoHTTPS && !ev.Allowed {
			refused++
			if ev.Status != 421 || ev.Credential != "github" || !strings.Contains(ev.Reason, "other.test") {
				t.Errorf("refusal event %+v", ev)
			}
		}
	}
	if refused != 2 {
		t.Errorf("%d refusals recorded, want 2", refused)
	}
}
