package netproxy

import (
	"fmt"

	"github.com/cordon-sandbox/cordon/internal/netenv"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// The rules the proxy enforces are pure and live in policy/netpolicy, so
// that the policy and the planners can read them without linking this
// server. These names keep the proxy's callers reading as before.

type (
	// Config is the [network] section of a policy; see netpolicy.Config.
	Config = netpolicy.Config
	// Mode says how a sandboxed command reaches the network.
	Mode = netpolicy.Mode
	// KeyError is one problem in a Config, about one key.
	KeyError = netpolicy.KeyError
	// Rules is a compiled Config.
	Rules = netpolicy.Rules
	// Decision is the rules' answer for one destination.
	Decision = netpolicy.Decision
	// Verdict is what a Decision says to do.
	Verdict = netpolicy.Verdict
	// Injection puts one credential's secret into requests; see
	// netpolicy.Injection.
	Injection = netpolicy.Injection
	// RequestRule decides requests by method and path; see
	// netpolicy.RequestRule.
	RequestRule = netpolicy.RequestRule

	target = netpolicy.Target
)

const (
	ModeOff   = netpolicy.ModeOff
	ModeProxy = netpolicy.ModeProxy
	ModeFull  = netpolicy.ModeFull

	UnlistedDeny = netpolicy.UnlistedDeny
	UnlistedAsk  = netpolicy.UnlistedAsk

	Deny  = netpolicy.Deny
	Allow = netpolicy.Allow
	Ask   = netpolicy.Ask

	RequestAllow = netpolicy.RequestAllow
	RequestAsk   = netpolicy.RequestAsk
	RequestDeny  = netpolicy.RequestDeny

	FormatBearer     = netpolicy.FormatBearer
	FormatBasic      = netpolicy.FormatBasic
	FormatRaw        = netpolicy.FormatRaw
	DefaultBasicUser = netpolicy.DefaultBasicUser

	// NoProxy is the NO_PROXY value a sandboxed command gets.
	NoProxy = netenv.NoProxy

	keyExtraCA = "network.extra_ca"
)

// Compile validates cfg and compiles it for Decide.
func Compile(cfg Config) (*Rules, error) { return netpolicy.Compile(cfg) }

// ClientEnv returns the environment that points a sandboxed command's tools
// at the proxy at proxyURL; see netenv.ClientEnv.
func ClientEnv(proxyURL string) map[string]string { return netenv.ClientEnv(proxyURL) }

// SSHCommand is the GIT_SSH_COMMAND that makes ssh reach its host through
// the proxy; see netenv.SSHCommand.
func SSHCommand(cordonPath string) string { return netenv.SSHCommand(cordonPath) }

// PresetNames lists the built-in presets, sorted.
func PresetNames() []string { return netpolicy.PresetNames() }

func keyErrorf(key, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}
