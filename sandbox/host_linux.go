package sandbox

import (
	"errors"
	"os"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/apply/linuxinit"
	"github.com/cordon-sandbox/cordon/policy"
)

// hostFacts is what this machine can give a sandbox, probed once per run
// (or per explain, or per doctor) and handed to every decision that needs
// it, so that they cannot disagree.
type hostFacts struct {
	// userNS says why unprivileged user namespaces are unavailable, or is
	// "" when nothing stands in the way.
	userNS string
	// landlockABI is the kernel's Landlock ABI; landlockErr says why there
	// is none.
	landlockABI int
	landlockErr error
}

// probeHost reads the facts of this machine.
func probeHost() hostFacts {
	h := hostFacts{userNS: userNSProblem()}
	h.landlockABI, h.landlockErr = linuxinit.LandlockABI()
	return h
}

// userNSSysctlFix says how to make unprivileged user namespaces available;
// doctor shows it, and userNSFix points there.
const userNSSysctlFix = "sysctl -w kernel.unprivileged_userns_clone=1 (Debian), or kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for cordon (Ubuntu 24.04+), or user.max_user_namespaces > 0"

const userNSFix = "enable unprivileged user namespaces (see `cordon doctor`), or accept the weaker Landlock-only mode by name with --allow-degraded=landlock"

// chooseMode is the one place that decides which mode a request runs in on
// this host: the full boundary (""), a weaker mode the caller forced or the
// policy accepted by name, or a refusal that names the missing layer. Run,
// Explain, a Session and the retry after the kernel refused the namespaces
// all ask it, with the same facts.
func chooseMode(req Request, force policy.Degraded, h hostFacts) (policy.Degraded, error) {
	if force != "" {
		return force, nil
	}
	if req.Policy.Mode.Value == policy.ModeFullAccess || h.userNS == "" {
		return "", nil
	}
	if !req.Policy.Accepts(policy.DegradedLandlock) {
		return "", &LayerError{Layer: "namespaces", Err: errors.New(h.userNS), Fix: userNSFix}
	}
	return policy.DegradedLandlock, nil
}

// userNSProblem explains why unprivileged user namespaces are unavailable,
// or returns "" when nothing stands in the way.
func userNSProblem() string {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if read("/proc/sys/user/max_user_namespaces") == "0" {
		return "user namespaces are disabled (user.max_user_namespaces = 0)"
	}
	if os.Getuid() != 0 {
		if read("/proc/sys/kernel/unprivileged_userns_clone") == "0" {
			return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
		}
		if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1" {
			return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1, the Ubuntu 24.04 default)"
		}
	}
	return ""
}
