package netpolicy

import (
	"net/netip"
)

// A specialRange is an address block a name must not resolve to unless a rule
// says private addresses are fine for it. The list covers everything that is
// not the public internet: a name that resolves into it is either a
// misconfiguration or DNS rebinding aimed at the host's own services.
type specialRange struct {
	prefix netip.Prefix
	what   string
	// metadata blocks stay refused for names even under a private rule:
	// credentials of the host's cloud identity live there. Only an explicit
	// IP-literal rule reaches them.
	metadata bool
	// never: not a destination at all, so not even an IP-literal rule
	// may name it.
	never bool
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// Ordered most specific first, so the reason names the narrowest block.
var specialRanges = []specialRange{
	// Cloud instance metadata and host agents.
	{mustPrefix("169.254.169.254/32"), "cloud metadata (AWS, GCP, Azure, OCI, DigitalOcean)", true, false},
	{mustPrefix("169.254.170.2/32"), "cloud metadata (AWS ECS task credentials)", true, false},
	{mustPrefix("169.254.170.23/32"), "cloud metadata (AWS EKS pod identity)", true, false},
	{mustPrefix("100.100.100.200/32"), "cloud metadata (Alibaba Cloud)", true, false},
	{mustPrefix("168.63.129.16/32"), "cloud metadata (Azure WireServer)", true, false},
	{mustPrefix("fd00:ec2::254/128"), "cloud metadata (AWS IMDS over IPv6)", true, false},
	{mustPrefix("fd00:ec2::23/128"), "cloud metadata (AWS EKS pod identity over IPv6)", true, false},

	// IPv4.
	{mustPrefix("0.0.0.0/8"), "unspecified (\"this network\", reaches the local host)", false, true},
	{mustPrefix("127.0.0.0/8"), "loopback", false, false},
	{mustPrefix("10.0.0.0/8"), "private (RFC 1918)", false, false},
	{mustPrefix("172.16.0.0/12"), "private (RFC 1918)", false, false},
	{mustPrefix("192.168.0.0/16"), "private (RFC 1918)", false, false},
	{mustPrefix("169.254.0.0/16"), "link-local", false, false},
	{mustPrefix("100.64.0.0/10"), "CGNAT shared address space (RFC 6598)", false, false},
	{mustPrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)", false, false},
	{mustPrefix("192.0.2.0/24"), "documentation (TEST-NET-1)", false, false},
	{mustPrefix("198.51.100.0/24"), "documentation (TEST-NET-2)", false, false},
	{mustPrefix("203.0.113.0/24"), "documentation (TEST-NET-3)", false, false},
	{mustPrefix("198.18.0.0/15"), "benchmarking (RFC 2544)", false, false},
	{mustPrefix("224.0.0.0/4"), "multicast", false, true},
	{mustPrefix("240.0.0.0/4"), "reserved (includes broadcast)", false, true},

	// IPv6.
	{mustPrefix("::/128"), "unspecified", false, true},
	{mustPrefix("::1/128"), "loopback", false, false},
	{mustPrefix("::/96"), "IPv4-compatible (deprecated)", false, false},
	{mustPrefix("64:ff9b:1::/48"), "local-use NAT64 (RFC 8215)", false, false},
	{mustPrefix("100::/64"), "discard-only (RFC 6666)", false, false},
	{mustPrefix("2001::/32"), "Teredo tunnel", false, false},
	{mustPrefix("2001:db8::/32"), "documentation", false, false},
	{mustPrefix("fc00::/7"), "private (unique local)", false, false},
	{mustPrefix("fe80::/10"), "link-local", false, false},
	{mustPrefix("fec0::/10"), "site-local (deprecated)", false, false},
	{mustPrefix("ff00::/8"), "multicast", false, true},
}

var (
	nat64Prefix     = mustPrefix("64:ff9b::/96")
	sixToFourPrefix = mustPrefix("2002::/16")
)

// specialAddr reports which non-public block ip falls in. Addresses that embed
// an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged
// by the IPv4 address they lead to, since that is where the packets go.
func specialAddr(ip netip.Addr) (r specialRange, special bool) {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64Prefix.Contains(ip):
			if r, ok := specialAddr(netip.AddrFrom4([4]byte(b[12:16]))); ok {
				r.what = "NAT64 of " + r.what
				return r, true
			}
		case sixToFourPrefix.Contains(ip):
			if r, ok := specialAddr(netip.AddrFrom4([4]byte(b[2:6]))); ok {
				r.what = "6to4 of " + r.what
				return r, true
			}
		}
	}
	for _, sr := range specialRanges {
		if sr.prefix.Contains(ip) {
			return sr, true
		}
	}
	return specialRange{}, false
}
