package netpolicy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Target is a destination after normalisation: exactly one of Name and IP is
// set. Rules and decisions only ever see this form, and the proxy resolves and
// dials this form, never the client's raw spelling.
type Target struct {
	Name string     // lower-case ASCII (A-labels), no trailing dot
	IP   netip.Addr // IPv4 or IPv6 without zone; IPv4-mapped IPv6 is unmapped
	Port int
}

// Host is the name, or the IP address in its canonical text.
func (t Target) Host() string {
	if t.IP.IsValid() {
		return t.IP.String()
	}
	return t.Name
}

// HostPort joins host and port, bracketing IPv6, as an --allow-host value or a
// dial address is written.
func (t Target) HostPort() string {
	if t.IP.Is6() {
		return "[" + t.IP.String() + "]:" + strconv.Itoa(t.Port)
	}
	return t.Host() + ":" + strconv.Itoa(t.Port)
}

const maxHostLen = 253

var errEmptyHost = errors.New("the host is empty")

// ParseHost normalises one host as a client or a rule spells it. Names are
// lower-cased, converted to IDNA A-labels and lose one trailing dot; the result
// must then follow the letters-digits-hyphen grammar. Anything that spells an
// IPv4 address in the forms inet_aton(3) and URL parsers accept (decimal
// 2130706433, octal 0177.0.0.1, hex 0x7f.1, shortened 127.1), or an IPv6
// address (bracketed or not, IPv4-mapped forms unmapped) comes back as an IP,
// so that it can only ever match IP rules. IPv6 zone identifiers are refused:
// they name a local interface, which no rule can grant.
func ParseHost(raw string) (Target, error) {
	if raw == "" {
		return Target{}, errEmptyHost
	}
	if len(raw) > 1024 {
		return Target{}, fmt.Errorf("the host is %d bytes long; a host name has at most %d", len(raw), maxHostLen)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f {
			return Target{}, fmt.Errorf("the host holds the control or space byte 0x%02x at offset %d", c, i)
		}
	}
	if !utf8.ValidString(raw) {
		return Target{}, fmt.Errorf("the host %q is not valid UTF-8", raw)
	}
	if strings.HasPrefix(raw, "[") || strings.Contains(raw, ":") {
		return parseIPv6(raw)
	}
	// IDNA mapping also folds full-width digits and dots, so the numeric
	// check below must run on its output, not on the raw input.
	ascii, err := idna.Lookup.ToASCII(raw)
	if err == nil {
		// The A-labels must stand on their own: a name that only
		// converts one way would be judged and dialled as different hosts.
		if again, err2 := idna.Lookup.ToASCII(ascii); err2 != nil || again != ascii {
			err = fmt.Errorf("its IDNA form %q does not convert back", ascii)
		}
	}
	if err != nil {
		return Target{}, fmt.Errorf("%q is not a valid host name (%v)", raw, err)
	}
	name := strings.TrimSuffix(ascii, ".")
	if name == "" {
		return Target{}, errEmptyHost
	}
	labels := strings.Split(name, ".")
	if looksNumeric(labels[len(labels)-1]) {
		ip, err := parseIPv4(labels)
		if err != nil {
			return Target{}, fmt.Errorf("%q ends in a number but is not an IPv4 address: %v", raw, err)
		}
		return Target{IP: ip}, nil
	}
	if len(name) > maxHostLen {
		return Target{}, fmt.Errorf("the host name is %d bytes long; at most %d are allowed", len(name), maxHostLen)
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return Target{}, fmt.Errorf("%q is not a valid host name: %v", raw, err)
		}
	}
	return Target{Name: name}, nil
}

func parseIPv6(raw string) (Target, error) {
	s := raw
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return Target{}, fmt.Errorf("%q opens a bracket it does not close", raw)
		}
		s = s[1 : len(s)-1]
	}
	if strings.Contains(s, "%") {
		return Target{}, fmt.Errorf("%q carries an IPv6 zone identifier; zones name a local interface and are never accepted", raw)
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Is6() {
		return Target{}, fmt.Errorf("%q is neither a host name nor an IPv6 address", raw)
	}
	return Target{IP: ip.Unmap()}, nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return errors.New("it has an empty label")
	case len(l) > 63:
		return fmt.Errorf("the label %q is longer than 63 bytes", l)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("the label %q starts or ends with '-'", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("the label %q holds %q; only letters, digits and '-' are allowed", l, c)
		}
	}
	return nil
}

// looksNumeric reports whether a final label would make URL parsers and
// inet_aton treat the whole host as an IPv4 address: all decimal digits, or a
// 0x prefix followed by hex digits.
func looksNumeric(l string) bool {
	if l == "" {
		return false
	}
	if strings.HasPrefix(l, "0x") {
		l = l[2:]
		for i := 0; i < len(l); i++ {
			if !isHex(l[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
}

// parseIPv4 reads the inet_aton forms: one to four parts, each decimal, octal
// (leading 0) or hex (0x); the last part fills the remaining bytes.
func parseIPv4(parts []string) (netip.Addr, error) {
	if len(parts) > 4 {
		return netip.Addr{}, fmt.Errorf("%d parts, at most 4", len(parts))
	}
	var vals [4]uint64
	for i, p := range parts {
		v, err := parseIPv4Part(p)
		if err != nil {
			return netip.Addr{}, err
		}
		vals[i] = v
	}
	last := len(parts) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 0xff {
			return netip.Addr{}, fmt.Errorf("part %q is above 255", parts[i])
		}
	}
	if vals[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, fmt.Errorf("part %q is too large", parts[last])
	}
	n := vals[last]
	for i := 0; i < last; i++ {
		n |= vals[i] << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), nil
}

func parseIPv4Part(p string) (uint64, error) {
	base, digits := 10, p
	switch {
	case p == "":
		return 0, errors.New("empty part")
	case strings.HasPrefix(p, "0x"):
		base, digits = 16, p[2:]
		if digits == "" {
			return 0, nil
		}
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	if len(digits) > 32 {
		return 0, fmt.Errorf("part %q is too long", p)
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil || strings.ContainsAny(digits, "+-_") {
		return 0, fmt.Errorf("part %q is not a number in base %d", p, base)
	}
	return v, nil
}

// parsePort reads a decimal TCP port, 1 to 65535.
func parsePort(s string) (int, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("port %q is not a number", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || len(s) > 5 {
		return 0, fmt.Errorf("port %q is outside 1-65535", s)
	}
	return n, nil
}

// SplitHostPort splits "host:port", "[v6]:port", and, when defaultPort is not
// zero, a bare "host" or "[v6]". An unbracketed IPv6 address without a port is
// accepted only when defaultPort is set and the text has more than one colon.
func SplitHostPort(s string, defaultPort int) (host string, port int, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("%q opens a bracket it does not close", s)
		}
		host, rest := s[:end+1], s[end+1:]
		switch {
		case rest == "" && defaultPort != 0:
			return host, defaultPort, nil
		case strings.HasPrefix(rest, ":"):
			port, err := parsePort(rest[1:])
			return host, port, err
		default:
			return "", 0, fmt.Errorf("%q needs a port after the bracketed address, as [::1]:443", s)
		}
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Count(s, ":") > 1 {
		if defaultPort == 0 {
			return "", 0, fmt.Errorf("%q has no port", s)
		}
		return s, defaultPort, nil
	}
	port, err = parsePort(s[i+1:])
	return s[:i], port, err
}
