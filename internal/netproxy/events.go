package netproxy

import (
	"sort"
	"sync"
	"time"
)

// Protocols a ConnEvent can name.
const (
	ProtoHTTP    = "http"    // an absolute-form plain HTTP request, forwarded
	ProtoConnect = "connect" // an HTTP CONNECT tunnel
	ProtoSOCKS5  = "socks5"  // a SOCKS5 CONNECT tunnel
	// ProtoHTTPS (intercept.go): a request inside an intercepted connection.
)

// ConnEvent records one proxied connection: a tunnel, one forwarded plain
// HTTP request, or one refusal. It is delivered when the connection ends.
type ConnEvent struct {
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Protocol string        `json:"protocol"`
	// Host is the normalised destination (lower-case ASCII name or IP
	// address). A host that could not be parsed appears as its raw text,
	// quoted in Go syntax; for an HTTP request that could not be parsed at
	// all, its quoted request line.
	Host string `json:"host"`
	Port int    `json:"port"`
	// Addr is the address the proxy dialled, after resolution and checks;
	// empty if it dialled nothing.
	Addr    string `json:"addr,omitempty"`
	Allowed bool   `json:"allowed"`
	// Rule is the policy entry that decided, as `network.allow "*.example.com"`.
	Rule string `json:"rule,omitempty"`
	// Reason says why a connection was refused or failed.
	Reason string `json:"reason,omitempty"`
	// Method is the request method of a plain HTTP request or of a
	// request inside an intercepted connection (ProtoHTTPS).
	Method string `json:"method,omitempty"`
	// Path is the URL path (without the query) of a ProtoHTTPS request.
	Path string `json:"path,omitempty"`
	// Status is the response status of a ProtoHTTPS request.
	Status int `json:"status,omitempty"`
	// Intercepted marks a CONNECT or SOCKS5 connection the proxy ended TLS
	// on, to inject a credential, and each request inside it (ProtoHTTPS),
	// which is an event of its own.
	Intercepted bool `json:"intercepted,omitempty"`
	// Credential names the credential a request was in the scope of, or
	// whose placeholder it carried where it may not (then it is refused).
	Credential string `json:"credential,omitempty"`
	// Injected says the credential's secret was put into the request.
	Injected bool `json:"injected,omitempty"`
	// BytesSent flowed from the sandboxed client to the destination,
	// BytesReceived the other way; for plain HTTP both include headers.
	BytesSent     int64 `json:"bytes_sent"`
	BytesReceived int64 `json:"bytes_received"`
}

// Summary totals a run's connections, for the run's result.
type Summary struct {
	Connections   int   `json:"connections"`
	Allowed       int   `json:"allowed"`
	Denied        int   `json:"denied"`
	BytesSent     int64 `json:"bytes_sent"`
	BytesReceived int64 `json:"bytes_received"`
	// Requests counts the requests inside intercepted connections (each
	// connection counts once in Connections).
	Requests int           `json:"requests,omitempty"`
	Hosts    []HostSummary `json:"hosts,omitempty"`
}

// HostSummary totals the connections to one host and port.
type HostSummary struct {
	Host          string `json:"host"`
	Port          int    `json:"port"`
	Allowed       int    `json:"allowed"`
	Denied        int    `json:"denied"`
	BytesSent     int64  `json:"bytes_sent"`
	BytesReceived int64  `json:"bytes_received"`
	// Reason is the last refusal's reason, if any was refused.
	Reason string `json:"reason,omitempty"`
}

type hostKey struct {
	host string
	port int
}

// recorder counts events and hands them to the caller's callback, one at a
// time.
type recorder struct {
	mu      sync.Mutex
	onEvent func(ConnEvent)
	total   Summary
	hosts   map[hostKey]*HostSummary
}

func (r *recorder) record(ev ConnEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		r.hosts = map[hostKey]*HostSummary{}
	}
	k := hostKey{ev.Host, ev.Port}
	h := r.hosts[k]
	if h == nil {
		h = &HostSummary{Host: ev.Host, Port: ev.Port}
		r.hosts[k] = h
	}
	if ev.Protocol == ProtoHTTPS {
		// A request inside a connection counted already: its bytes are
		// the connection's; only a refusal is news.
		r.total.Requests++
		if !ev.Allowed {
			r.total.Denied++
			h.Denied++
			h.Reason = ev.Reason
		}
		if r.onEvent != nil {
			r.onEvent(ev)
		}
		return
	}
	r.total.Connections++
	if ev.Allowed {
		r.total.Allowed++
		h.Allowed++
	} else {
		r.total.Denied++
		h.Denied++
		h.Reason = ev.Reason
	}
	r.total.BytesSent += ev.BytesSent
	r.total.BytesReceived += ev.BytesReceived
	h.BytesSent += ev.BytesSent
	h.BytesReceived += ev.BytesReceived
	if r.onEvent != nil {
		r.onEvent(ev)
	}
}

func (r *recorder) take() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.summaryLocked()
	r.total, r.hosts = Summary{}, nil
	return s
}

func (r *recorder) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summaryLocked()
}

func (r *recorder) summaryLocked() Summary {
	s := r.total
	s.Hosts = make([]HostSummary, 0, len(r.hosts))
	for _, h := range r.hosts {
		s.Hosts = append(s.Hosts, *h)
	}
	sort.Slice(s.Hosts, func(i, j int) bool {
		a, b := s.Hosts[i], s.Hosts[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Port < b.Port
	})
	return s
}
