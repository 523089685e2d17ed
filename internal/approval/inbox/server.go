package inbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/internal/approval/internal/state"
)

// Options configure Start.
type Options struct {
	// Home is the user's home directory. The inbox publishes its address
	// and requester token in cordon's state directory there
	// ($XDG_STATE_HOME/cordon or ~/.local/state/cordon) for cordon
	// processes to find.
	Home string
	// Log receives one line per question and per answer. Nil discards.
	Log io.Writer
}

// Limits that keep a misbehaving requester from exhausting the inbox.
const (
	maxPending     = 256
	maxRecent      = 50
	maxRequestBody = 1 << 20
	maxReasonLen   = 500
	maxTimeout     = 24 * time.Hour
)

// Server is a running inbox.
type Server struct {
	opts       Options
	approver   string // the OS user answering through the page
	ln         net.Listener
	http       *http.Server
	host       string // "127.0.0.1:PORT", the only Host answered
	askToken   string // published in the state directory: submit and wait
	loginToken string // printed only: logs a browser in
	withdraw   func()
	closing    chan struct{}
	closeOnce  sync.Once
	served     chan struct{}
	page       *template.Template

	mu          sync.Mutex
	pending     map[string]*pending
	order       []string // pending ids, oldest first
	recent      []decided
	sessions    map[string]*browserSession // by sha256 of the cookie
	subscribers map[chan struct{}]struct{}
	version     uint64
	conns       int // connections accepted, for the status API
	askCalls    int // authenticated questions received
	rejected    int // requests refused for a missing or wrong secret
}

type pending struct {
	id       string
	req      approval.Request
	scopes   []string
	created  time.Time
	deadline time.Time
	answer   chan approval.Answer
}

type decided struct {
	ID       string
	Command  string
	Kind     string
	Outcome  string
	Approver string
	Reason   string
	At       time.Time
}

type browserSession struct {
	csrf string
}

//go:embed assets
var assets embed.FS

// Start listens on a random port of 127.0.0.1, publishes the inbox for
// cordon processes, and serves until Close. It fails when another inbox is
// already running for this state directory.
func Start(o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Home == "" {
		return nil, errors.New("approval inbox: no home directory given")
	}
	page, err := template.New("index.html").Funcs(template.FuncMap{
		"scopeButton": scopeButton,
		"ago":         ago,
	}).ParseFS(assets, "assets/index.html")
	if err != nil {
		return nil, fmt.Errorf("approval inbox page: %w", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("approval inbox: listen on 127.0.0.1: %w", err)
	}
	s := &Server{
		opts: o, approver: state.CurrentUser(), ln: ln, host: ln.Addr().String(),
		askToken: state.RandomHex(32), loginToken: state.RandomHex(32),
		closing: make(chan struct{}), served: make(chan struct{}), page: page,
		pending: map[string]*pending{}, sessions: map[string]*browserSession{},
		subscribers: map[chan struct{}]struct{}{},
	}
	s.withdraw, err = state.PublishInbox(state.Dir(o.Home), state.Endpoint{
		URL: s.URL(), Token: s.askToken, PID: os.Getpid(), Started: time.Now().UTC()})
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ConnState: func(_ net.Conn, cs http.ConnState) {
			if cs == http.StateNew {
				s.mu.Lock()
				s.conns++
				s.mu.Unlock()
			}
		},
	}
	go func() {
		defer close(s.served)
		s.http.Serve(ln)
	}()
	return s, nil
}

// URL is the inbox's address, without any secret.
func (s *Server) URL() string { return "http://" + s.host }

// LoginURL is the address a human opens to use the inbox. It holds the
// login token: print it only to the user's own terminal.
func (s *Server) LoginURL() string { return s.URL() + "/login?token=" + s.loginToken }

// Close stops the inbox: waiting questions are answered deny, the
// published address is withdrawn, and the listener closes.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.withdraw()
		close(s.closing)
		s.http.Close()
		<-s.served
	})
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+approval.InboxAskPath, s.handleAsk)
	mux.HandleFunc("GET /api/status", s.handleStatus)
	mux.HandleFunc("GET /login", s.handleLogin)
	mux.Handle("GET /{$}", s.browser(s.handlePage))
	mux.Handle("GET /list", s.browser(s.handleList))
	mux.Handle("GET /events", s.browser(s.handleEvents))
	mux.Handle("POST /decide", s.browser(s.handleDecide))
	mux.Handle("GET /static/{file}", s.browser(s.handleStatic))
	return s.guard(mux)
}

// guard answers only requests for the inbox's own Host and sets the headers
// every response carries.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r.Host != s.host {
			http.Error(w, "wrong host", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// browser lets only logged-in browsers through.
func (s *Server) browser(next func(http.ResponseWriter, *http.Request, *browserSession)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := s.sessionOf(r)
		if sess == nil {
			s.mu.Lock()
			s.rejected++
			s.mu.Unlock()
			http.Error(w, "Not logged in. Open the URL that `cordon approve` printed in its terminal; it logs this browser in.", http.StatusUnauthorized)
			return
		}
		next(w, r, sess)
	})
}

const cookieName = "cordon_inbox"

func (s *Server) sessionOf(r *http.Request) *browserSession {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[hashKey(c.Value)]
}

// hashKey keys secrets in maps by their hash, so that looking one up takes
// no time that depends on the secret.
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !equalSecret(r.URL.Query().Get("token"), s.loginToken) {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
		http.Error(w, "This login link is not valid. Open the URL that the running `cordon approve` printed (a restarted inbox prints a new one).", http.StatusForbidden)
		return
	}
	cookie := state.RandomHex(32)
	s.mu.Lock()
	s.sessions[hashKey(cookie)] = &browserSession{csrf: state.RandomHex(32)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handleAsk holds a question until a human answers, the requester gives up
// (closes the connection) or its time runs out.
func (s *Server) handleAsk(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !equalSecret(token, s.askToken) {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
		http.Error(w, "missing or wrong requester token", http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "the request must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	var req approval.Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "the request is not an approval request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := req.Validate(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	timeout := approval.DefaultTimeout
	if v := r.Header.Get(approval.InboxTimeoutHeader); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || time.Duration(n)*time.Second > maxTimeout {
			http.Error(w, approval.InboxTimeoutHeader+" must be a number of seconds from 1 to 86400", http.StatusBadRequest)
			return
		}
		timeout = time.Duration(n) * time.Second
	}
	p, err := s.add(req, timeout)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var ans approval.Answer
	select {
	case ans = <-p.answer:
	case <-timer.C:
		s.drop(p, "timed out")
		ans = approval.Answer{Decision: approval.Deny, TimedOut: true, Reason: "nobody answered in the inbox in time"}
	case <-r.Context().Done():
		s.drop(p, "withdrawn by the requester (it stopped waiting)")
		return
	case <-s.closing:
		s.drop(p, "the inbox stopped")
		ans = approval.Answer{Decision: approval.Deny, Reason: "the approval inbox stopped before anyone answered"}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

// Status is what GET /api/status reports to a requester-token holder: how
// many questions are waiting, how many connections and questions arrived,
// and how many requests came without a valid secret. Tests use it to see,
// from the inbox's side, whether anything reached it.
type Status struct {
	Pending     int `json:"pending"`
	Connections int `json:"connections"`
	Asked       int `json:"asked"`
	Rejected    int `json:"rejected"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !equalSecret(token, s.askToken) {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
		http.Error(w, "missing or wrong requester token", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	st := Status{Pending: len(s.pending), Connections: s.conns, Asked: s.askCalls, Rejected: s.rejected}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

func (s *Server) add(req approval.Request, timeout time.Duration) (*pending, error) {
	now := time.Now()
	p := &pending{id: state.RandomHex(8), req: req, scopes: req.Scopes(), created: now,
		deadline: now.Add(timeout), answer: make(chan approval.Answer, 1)}
	s.mu.Lock()
	if len(s.pending) >= maxPending {
		s.mu.Unlock()
		return nil, fmt.Errorf("%d questions are already waiting in the inbox; answer some first", maxPending)
	}
	s.askCalls++
	s.pending[p.id] = p
	s.order = append(s.order, p.id)
	s.changedLocked()
	s.mu.Unlock()
	fmt.Fprintf(s.opts.Log, "cordon approve: question %s: %s\n", p.id, oneLine(req.Fields()))
	return p, nil
}

// drop removes a question nobody answered and records why.
func (s *Server) drop(p *pending, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[p.id]; !ok {
		return
	}
	s.removeLocked(p.id)
	s.recordLocked(p, outcome, "", "")
	fmt.Fprintf(s.opts.Log, "cordon approve: question %s: %s\n", p.id, outcome)
}

// answer resolves a waiting question; false when it is no longer waiting.
func (s *Server) answer(id string, ans approval.Answer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	if !ok {
		return false
	}
	s.removeLocked(id)
	ans.Latency = time.Since(p.created)
	outcome := "denied"
	if ans.Decision == approval.Allow {
		outcome = "allowed " + scopeButton(ans.Scope)
	}
	s.recordLocked(p, outcome, ans.Approver, ans.Reason)
	p.answer <- ans
	fmt.Fprintf(s.opts.Log, "cordon approve: question %s: %s by %s\n", id, outcome, ans.Approver)
	return true
}

func (s *Server) removeLocked(id string) {
	delete(s.pending, id)
	for i, o := range s.order {
		if o == id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
}

func (s *Server) recordLocked(p *pending, outcome, approver, reason string) {
	s.recent = append([]decided{{ID: p.id, Command: p.req.Fields()[0].Value, Kind: p.req.Kind, Outcome: outcome,
		Approver: approver, Reason: approval.Printable(reason), At: time.Now()}}, s.recent...)
	if len(s.recent) > maxRecent {
		s.recent = s.recent[:maxRecent]
	}
	s.changedLocked()
}

// changedLocked tells every open page that the lists changed.
func (s *Server) changedLocked() {
	s.version++
	for ch := range s.subscribers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func oneLine(fields []approval.Field) string {
	var parts []string
	for _, f := range fields {
		parts = append(parts, f.Label+": "+f.Value)
	}
	return strings.Join(parts, "; ")
}

// errNotPending is shown when an answer comes for a question that is gone.
var errNotPending = errors.New("this question is no longer waiting: it was answered, withdrawn or timed out")
