package netpolicy

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	loop := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		in      string
		name    string
		ip      netip.Addr
		wantErr string
	}{
		{in: "allowed.test", name: "allowed.test"},
		{in: "ALLOWED.TEST", name: "allowed.test"},
		{in: "allowed.test.", name: "allowed.test"},
		{in: "Allowed.Test.", name: "allowed.test"},
		{in: "localhost", name: "localhost"},
		{in: "a-b.example", name: "a-b.example"},
		{in: "Bücher.example", name: "xn--bcher-kva.example"},
		{in: "xn--bcher-kva.example", name: "xn--bcher-kva.example"},
		{in: "EXAMPLE。com", name: "example.com"}, // ideographic full stop folds to "."

		{in: "allowed.test..", wantErr: "empty label"},
		{in: ".", wantErr: "empty"},
		{in: "", wantErr: "empty"},
		{in: "a..b", wantErr: "empty label"},
		{in: "evil.test\x00.allowed.test", wantErr: "0x00"},
		{in: "evil.test\n.allowed.test", wantErr: "0x0a"},
		{in: "evil test", wantErr: "0x20"},
		{in: "ex_ample.com", wantErr: "not a valid host name"},
		{in: "-a.com", wantErr: "not a valid host name"},
		{in: "a-.com", wantErr: "not a valid host name"},
		{in: "evil.com/x", wantErr: "not a valid host name"},
		{in: "evil.com@allowed.test", wantErr: "not a valid host name"},
		{in: "127.0.0.1%lo", wantErr: "not a valid host name"},
		{in: "\u200b.com", wantErr: "empty label"},
		{in: strings.Repeat("a", 64) + ".com", wantErr: "longer than 63"},
		{in: strings.Repeat("abcdefgh.", 32) + "com", wantErr: "at most 253"},

		// Every spelling of 127.0.0.1 is that address, never a name.
		{in: "127.0.0.1", ip: loop},
		{in: "127.0.0.1.", ip: loop},
		{in: "2130706433", ip: loop},
		{in: "0177.0.0.1", ip: loop},
		{in: "0x7f.1", ip: loop},
		{in: "0X7F.0.0.1", ip: loop},
		{in: "0x7f000001", ip: loop},
		{in: "017700000001", ip: loop},
		{in: "127.1", ip: loop},
		{in: "127.0.1", ip: loop},
		{in: "１２７.０.０.１", ip: loop}, // full-width digits
		{in: "::ffff:127.0.0.1", ip: loop},
		{in: "[::ffff:127.0.0.1]", ip: loop},
		{in: "[::ffff:7f00:1]", ip: loop},
		{in: "0:0:0:0:0:ffff:7f00:1", ip: loop},
		{in: "[::1]", ip: netip.IPv6Loopback()},
		{in: "::1", ip: netip.IPv6Loopback()},
		{in: "4294967295", ip: netip.MustParseAddr("255.255.255.255")},
		{in: "0x", ip: netip.MustParseAddr("0.0.0.0")},

		{in: "[fe80::1%25eth0]", wantErr: "zone"},
		{in: "fe80::1%eth0", wantErr: "zone"},
		{in: "[::ffff:127.0.0.1%lo]", wantErr: "zone"},
		{in: "[::1", wantErr: "bracket"},
		{in: "1.2.3.256", wantErr: "not an IPv4 address"},
		{in: "4294967296", wantErr: "not an IPv4 address"},
		{in: "1.2.3.4.5", wantErr: "not an IPv4 address"},
		{in: "08.0.0.1", wantErr: "not an IPv4 address"},
		{in: "evil.0x7f", wantErr: "not an IPv4 address"},
		{in: "allowed.test.123", wantErr: "not an IPv4 address"},
		{in: "1..1", wantErr: "not an IPv4 address"},
		{in: "::g", wantErr: "neither a host name nor an IPv6"},
		{in: "1.2.3.4:80", wantErr: "neither a host name nor an IPv6"},
	}
	for _, tt := range tests {
		got, err := ParseHost(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseHost(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("ParseHost(%q): unexpected error %v", tt.in, err)
		case got.Name != tt.name || got.IP != tt.ip:
			t.Errorf("ParseHost(%q) = name %q ip %v; want name %q ip %v", tt.in, got.Name, got.IP, tt.name, tt.ip)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in          string
		defaultPort int
		host        string
		port        int
		wantErr     bool
	}{
		{"example.com:443", 0, "example.com", 443, false},
		{"example.com", 80, "example.com", 80, false},
		{"example.com", 0, "", 0, true},
		{"[::1]:8080", 0, "[::1]", 8080, false},
		{"[::1]", 80, "[::1]", 80, false},
		{"[::1]", 0, "", 0, true},
		{"::1", 80, "::1", 80, false},
		{"example.com:0", 0, "", 0, true},
		{"example.com:65536", 0, "", 0, true},
		{"example.com:+80", 0, "", 0, true},
		{"example.com:080", 0, "example.com", 80, false},
		{"[::1]x", 0, "", 0, true},
	}
	for _, tt := range tests {
		host, port, err := SplitHostPort(tt.in, tt.defaultPort)
		if (err != nil) != tt.wantErr || !tt.wantErr && (host != tt.host || port != tt.port) {
			t.Errorf("SplitHostPort(%q, %d) = %q, %d, %v; want %q, %d, error %v", tt.in, tt.defaultPort, host, port, err, tt.host, tt.port, tt.wantErr)
		}
	}
}

// FuzzParseHost checks that whatever parseHost accepts is in the grammar it
// promises, and that normalising is idempotent. The seeds in
// testdata/fuzz/FuzzParseHost run with every `go test`.
func FuzzParseHost(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseHost(in)
		if err != nil {
			return
		}
		if got.IP.IsValid() == (got.Name != "") {
			t.Fatalf("ParseHost(%q) = %+v: want exactly one of name and ip", in, got)
		}
		if got.IP.IsValid() {
			if got.IP.Zone() != "" || got.IP.Is4In6() {
				t.Fatalf("ParseHost(%q) = %v: zone or IPv4-mapped address survived", in, got.IP)
			}
		} else {
			if len(got.Name) > maxHostLen || strings.HasSuffix(got.Name, ".") {
				t.Fatalf("ParseHost(%q) = %q: too long or trailing dot", in, got.Name)
			}
			for _, l := range strings.Split(got.Name, ".") {
				if err := checkLabel(l); err != nil {
					t.Fatalf("ParseHost(%q) = %q: %v", in, got.Name, err)
				}
			}
			if looksNumeric(got.Name[strings.LastIndexByte(got.Name, '.')+1:]) {
				t.Fatalf("ParseHost(%q) = name %q, which IP parsers would read as an address", in, got.Name)
			}
		}
		again, err := ParseHost(got.Host())
		if err != nil || again != got {
			t.Fatalf("ParseHost(%q) = %+v, but parsing %q again gives %+v, %v", in, got, got.Host(), again, err)
		}
	})
}
