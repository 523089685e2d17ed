package sandbox

import (
	"os"
	"strings"
)

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
