package winplan

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestPortComplement(t *testing.T) {
	cases := []struct {
		in   []int
		want []string
	}{
		{nil, []string{"1-65535"}},
		{[]int{8080}, []string{"1-8079", "8081-65535"}},
		{[]int{1}, []string{"2-65535"}},
		{[]int{65535}, []string{"1-65534"}},
		{[]int{8081, 8080, 8080}, []string{"1-8079", "8082-65535"}},
		{[]int{3, 5}, []string{"1-2", "4", "6-65535"}},
	}
	for _, c := range cases {
		if got := PortComplement(c.in); !slices.Equal(got, c.want) {
			t.Errorf("PortComplement(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// portBlocked reports whether a block rule of rules matches TCP to port on
// 127.0.0.1, interpreting the rule's port list.
func portBlocked(rules []FirewallRule, port int) bool {
	for _, r := range rules {
		if r.Protocol != "TCP" || !slices.Contains(r.RemoteAddresses, "127.0.0.0-127.255.255.255") {
			continue
		}
		for _, pr := range r.RemotePorts {
			lo, hi, found := strings.Cut(pr, "-")
			if !found {
				hi = lo
			}
			if atoi(lo) <= port && port <= atoi(hi) {
				return true
			}
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestPlanSetup(t *testing.T) {
	p, err := PlanSetup(SetupInput{Installer: testUser, ProxyPorts: []int{8080}, Secrets: []string{testProfile + `\.ssh`}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Users) != 2 || p.Users[0].Name != OfflineUser || p.Users[1].Name != OnlineUser || !p.Users[1].Online || p.Users[0].Online {
		t.Fatalf("users %+v", p.Users)
	}
	for _, u := range p.Users {
		if !slices.Equal(u.Groups, []string{"Users", SandboxGroup}) || u.Flags&ufDontExpirePasswd == 0 {
			t.Errorf("user %+v", u)
		}
		var rights []string
		for _, r := range p.Rights {
			if r.Account == u.Name {
				rights = append(rights, r.Right)
			}
		}
		for _, want := range []string{"SeInteractiveLogonRight", "SeDenyNetworkLogonRight", "SeDenyRemoteInteractiveLogonRight"} {
			if !slices.Contains(rights, want) {
				t.Errorf("%s lacks %s", u.Name, want)
			}
		}
		// CreateProcessWithLogonW needs "Log On Locally": denying it would
		// make every elevated run fail with error 1385.
		if slices.Contains(rights, "SeDenyInteractiveLogonRight") {
			t.Errorf("%s is denied interactive logon, which CreateProcessWithLogonW needs", u.Name)
		}
	}
	// The offline user reaches loopback TCP 8080 and nothing else.
	for port, blocked := range map[int]bool{8080: false, 8079: true, 8081: true, 1: true, 65535: true, 53: true, 445: true} {
		if got := portBlocked(p.FirewallRules, port); got != blocked {
			t.Errorf("loopback TCP %d blocked: %t, want %t", port, got, blocked)
		}
	}
	var v4, v6, udp bool
	for _, r := range p.FirewallRules {
		if r.Action != "Block" || r.OfflineUserSDDL("S-1-5-21-1-2-3-1005") != "O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1005)" {
			t.Errorf("rule %+v", r)
		}
		v4 = v4 || (r.Protocol == "Any" && slices.Contains(r.RemoteAddresses, "0.0.0.0-126.255.255.255") && slices.Contains(r.RemoteAddresses, "128.0.0.0-255.255.255.255"))
		v6 = v6 || (r.Protocol == "Any" && slices.Contains(r.RemoteAddresses, "::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
		udp = udp || (r.Protocol == "UDP" && slices.Contains(r.RemoteAddresses, "::1"))
	}
	if !v4 || !v6 || !udp {
		t.Errorf("missing blocks: IPv4 %t, IPv6 %t, loopback UDP %t", v4, v6, udp)
	}
	if !slices.Equal(p.DenyRead, []string{testProfile + `\.ssh`}) || SandboxDenyReadMask&FileReadData == 0 || SandboxDenyReadMask&Synchronize != 0 {
		t.Errorf("deny-read %+v, mask %#x", p.DenyRead, SandboxDenyReadMask)
	}
	if !strings.Contains(p.Marker, string(testUser)) || !strings.HasPrefix(p.Marker, "O:BAD:P(") {
		t.Errorf("marker SDDL %s", p.Marker)
	}
	// No proxy: no loopback TCP either.
	p2, _ := PlanSetup(SetupInput{Installer: testUser})
	if !portBlocked(p2.FirewallRules, 8080) {
		t.Error("without a proxy port, loopback TCP stays open")
	}
	for _, bad := range []SetupInput{{}, {Installer: testLogon}, {Installer: testUser, ProxyPorts: []int{0}}, {Installer: testUser, Secrets: []string{"rel"}}} {
		if _, err := PlanSetup(bad); err == nil {
			t.Errorf("PlanSetup(%+v) accepted", bad)
		}
	}
}

func TestSetupStepsAndUndo(t *testing.T) {
	p, _ := PlanSetup(SetupInput{Installer: testUser, ProxyPorts: []int{8080}, Secrets: []string{testProfile + `\.ssh`}})
	steps := p.Steps()
	if steps[0].Kind != "group" {
		t.Fatalf("first step %+v: the group must exist before users join it", steps[0])
	}
	undo := UndoSteps(steps)
	if undo[len(undo)-1].Kind != "group" || undo[0].Kind != "ace" {
		t.Fatalf("undo order %+v", undo)
	}
	for _, s := range undo {
		if s.Kind == "member" || s.Kind == "right" {
			t.Errorf("undo lists %+v, which goes with its account", s)
		}
	}
	if err := ElevatedReady(steps, true); err != nil {
		t.Errorf("ready after setup: %v", err)
	}
	for _, c := range []struct {
		steps  []SetupStep
		exists bool
	}{{nil, false}, {steps, false}, {steps[:3], true}} {
		err := ElevatedReady(c.steps, c.exists)
		if !errors.Is(err, ErrSetupMissing) || !strings.Contains(err.Error(), "cordon windows setup") || !strings.Contains(err.Error(), "windows-unelevated") {
			t.Errorf("ElevatedReady = %v, want the setup command and the weaker mode named", err)
		}
	}
}

func TestSandboxPassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		pw, err := NewSandboxPassword()
		if err != nil || len(pw) != 40 || seen[pw] {
			t.Fatalf("password %q, %v", pw, err)
		}
		seen[pw] = true
		var lo, up, dg, sy bool
		for _, c := range pw {
			lo = lo || unicode.IsLower(c)
			up = up || unicode.IsUpper(c)
			dg = dg || unicode.IsDigit(c)
			sy = sy || strings.ContainsRune("!#%+-.:=?@^_~", c)
		}
		if !lo || !up || !dg || !sy {
			t.Fatalf("password %q lacks a character class", pw)
		}
	}
}

func TestRunnerTokenSpec(t *testing.T) {
	caps := []SID{"S-1-5-21-1-2-3-4"}
	const inst, sandboxUser SID = "S-1-5-21-9-9-9-9", "S-1-5-21-111-222-333-1005"
	spec, err := RunnerTokenSpec(caps, inst, sandboxUser, testLogon)
	if err != nil {
		t.Fatal(err)
	}
	if containsSID(spec.RestrictingSIDs, testLogon) || !containsSID(spec.DisableSIDs, testLogon) || !containsSID(spec.RestrictingSIDs, inst) {
		t.Fatalf("runner spec %+v: want the logon SID disabled and not restricting", spec)
	}
}

func TestFirewallPowerShell(t *testing.T) {
	r := FirewallRule{Name: "it's", Action: "Block", Protocol: "TCP", RemoteAddresses: []string{"127.0.0.0-127.255.255.255", "::1"},
		RemotePorts: []string{"1-8079", "8081-65535"}, LocalUser: "O:LSD:(A;;CC;;;{offline})"}
	got := r.PowerShell("S-1-5-21-1-2-3-1005")
	want := "New-NetFirewallRule -DisplayName 'it''s' -Group 'cordon sandbox' -Direction Outbound -Action 'Block' -Protocol 'TCP' " +
		"-Profile Any -RemoteAddress '127.0.0.0-127.255.255.255','::1' -RemotePort '1-8079','8081-65535' " +
		"-LocalUser 'O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1005)' | Out-Null"
	if got != want {
		t.Errorf("PowerShell =\n%s\nwant\n%s", got, want)
	}
}
