package macplan

// The allowances every profile carries beyond files and network, each with
// the reason it is there. They were chosen from public references: the
// profiles of Chromium (sandbox/policy/mac/common.sb), OpenAI's Codex
// (codex-rs seatbelt_base_policy.sbpl and its network policy) and
// Anthropic's sandbox-runtime (src/sandbox/macos-sandbox-utils.ts). No text
// of theirs is copied; docs/macos.md lists every entry with its reason, and
// a test keeps the two in step.

// Service is a Mach service the profile names.
type Service struct {
	Name string
	Why  string
	// Network: only when the network goes through cordon's proxy.
	Network bool
}

// AllowedServices are the mach-lookup names a sandboxed command may reach.
var AllowedServices = []Service{
	{Name: "com.apple.system.opendirectoryd.libinfo",
		Why: "user and group lookups (getpwuid, getgrnam): whoami, id, git, ssh, Python's getpass, Go's os/user"},
	{Name: "com.apple.system.opendirectoryd.membership",
		Why: "group membership checks (mbr_* calls) made by libc and Foundation"},
	{Name: "com.apple.system.logger",
		Why: "writing to the system log through asl/syslog(3); it cannot read the log back"},
	{Name: "com.apple.logd",
		Why: "writing os_log messages (swift, xcrun and Foundation log through it); streaming the log goes through diagnosticd, which is refused"},
	{Name: "com.apple.system.notification_center",
		Why: "notify(3), which libc and CoreFoundation use to hear of time zone and preference changes"},
	{Name: "com.apple.cfprefsd.daemon",
		Why: "reading preferences (CFPreferences, NSUserDefaults) used by Foundation tools such as swift and xcodebuild; cfprefsd refuses writes, because the profile never allows user-preference-write"},
	{Name: "com.apple.cfprefsd.agent",
		Why: "the per-user half of cfprefsd, for the same reads"},
	{Name: "com.apple.bsd.dirhelper",
		Why: "confstr(_CS_DARWIN_USER_TEMP_DIR) and friends, which look up the per-user temp and cache directories (writes there stay refused; TMPDIR points at the private one)"},
	{Name: "com.apple.PowerManagement.control",
		Why: "power assertions build tools take (the only effect outside: the Mac stays awake while the command runs)"},
	{Name: "com.apple.trustd.agent", Network: true,
		Why: "TLS certificate verification through Security.framework, which Go, swift and Rust's native-tls use for HTTPS through the proxy; see the network layer for what trustd may fetch"},
	{Name: "com.apple.trustd", Network: true,
		Why: "the system half of trustd, for the same verification"},
}

// DeniedClass is a kind of service the profile refuses by name, even though
// deny-by-default already refuses it: the explicit rules come last, so no
// later change to the allowances can open them by accident.
type DeniedClass struct {
	Class    string
	Why      string
	Services []string
	// Network: not refused in network.mode = full, where the command has
	// the host's network and its name resolution (a named risk).
	Network bool
}

// DeniedClasses are the services that hand out secrets or control the
// user's session.
var DeniedClasses = []DeniedClass{
	{Class: "keychain and credentials",
		Why:      "securityd holds the login keychain: passwords, tokens, keys; the agent and CoreAuthentication prompt for and unlock them",
		Services: []string{"com.apple.SecurityServer", "com.apple.securityd.xpc", "com.apple.security.agent", "com.apple.CoreAuthentication.daemon"}},
	{Class: "pasteboard",
		Why:      "the pasteboard holds whatever the user copied last (often a password or a token), and writing it plants text the user will paste",
		Services: []string{"com.apple.pasteboard.1"}},
	{Class: "AppleEvents and accessibility",
		Why:      "AppleEvents script other applications, which run outside the sandbox (Terminal's do script runs any command); accessibility reads and drives every window; tccd grants both",
		Services: []string{"com.apple.coreservices.appleevents", "com.apple.axserver", "com.apple.tccd", "com.apple.tccd.system"}},
	{Class: "launching applications and launchd jobs",
		Why:      "LaunchServices starts applications outside the sandbox (open(1)); ServiceManagement and background task management register login items and launchd jobs that would run later, unconfined. Job submission through launchd itself is refused by launchd for sandboxed callers (scripts/macos/verify.sh checks launchctl submit)",
		Services: []string{"com.apple.coreservices.launchservicesd", "com.apple.CoreServices.coreservicesd", "com.apple.xpc.smd", "com.apple.backgroundtaskmanagementagent"}},
	{Class: "other applications' notifications",
		Why:      "distributed notifications reach every application of the session and some act on them",
		Services: []string{"com.apple.distributed_notifications@Uv3"}},
	{Class: "DNS and network configuration", Network: true,
		Why:      "there is no DNS inside: the proxy resolves names (mDNSResponder's unix socket is refused like every socket outside the writable places); configd and networkd would also tell the command about the host's networks",
		Services: []string{"com.apple.SystemConfiguration.configd", "com.apple.SystemConfiguration.DNSConfiguration", "com.apple.networkd"}},
	{Class: "the system log",
		Why:      "diagnosticd streams every process's log messages, which may hold other programs' secrets",
		Services: []string{"com.apple.diagnosticd"}},
}

// FullNetworkServices are added in network.mode = full, where the command
// has the host's network: name resolution and network settings.
var FullNetworkServices = []Service{
	{Name: "com.apple.SystemConfiguration.configd", Why: "network settings and proxies (network.mode = full only)"},
	{Name: "com.apple.SystemConfiguration.DNSConfiguration", Why: "the resolver's configuration (network.mode = full only)"},
	{Name: "com.apple.networkd", Why: "Network.framework path evaluation (network.mode = full only)"},
	{Name: "com.apple.trustd.agent", Why: "TLS certificate verification (network.mode = full only)"},
	{Name: "com.apple.trustd", Why: "TLS certificate verification (network.mode = full only)"},
}

// Sysctls are the sysctl names a command may read: what runtimes ask about the CPU, memory, the system's
// version and limits. kern.procargs2 (other processes' arguments and
// environment) is not among them.
var Sysctls = []string{
	"hw.activecpu", "hw.byteorder", "hw.cachelinesize", "hw.cpufamily", "hw.cpufrequency",
	"hw.cpusubtype", "hw.cputype", "hw.l1dcachesize", "hw.l1icachesize", "hw.l2cachesize",
	"hw.l3cachesize", "hw.logicalcpu", "hw.logicalcpu_max", "hw.machine", "hw.memsize",
	"hw.model", "hw.ncpu", "hw.nperflevels", "hw.packages", "hw.pagesize", "hw.physicalcpu",
	"hw.physicalcpu_max", "hw.tbfrequency", "hw.vectorunit",
	"kern.argmax", "kern.boottime", "kern.hostname", "kern.maxfiles", "kern.maxfilesperproc",
	"kern.maxproc", "kern.maxprocperuid", "kern.ngroups", "kern.osproductversion",
	"kern.osrelease", "kern.ostype", "kern.osvariant_status", "kern.osversion",
	"kern.secure_kernel", "kern.usrstack64", "kern.version",
	"sysctl.proc_cputype", "sysctl.proc_translated", "vm.loadavg",
}

// SysctlPrefixes are read by name prefix: CPU features and performance
// levels, and the process table's entries by pid and process group.
var SysctlPrefixes = []string{"hw.optional.", "hw.perflevel", "machdep.cpu.", "kern.proc.pid.", "kern.proc.pgrp."}

// SysctlWhy says why the sysctl list is what it is.
const SysctlWhy = "what runtimes read about the machine: the CPU and its features (Go, Rust, Node's os.cpus, the JVM), memory size, page size, the system's version (sw_vers, Python's platform), argument and file limits (xargs, getconf), Rosetta (sysctl.proc_translated); kern.proc.pid. and kern.proc.pgrp. give ps the pid, parent, owner and name of a process, never its arguments or environment"

// EscalationPrograms are refused at exec as defence in depth: the sandbox
// holds a setuid program too, but these exist to become root or another
// user. (A rule on the setuid bit itself would also refuse ps and top,
// which macOS installs setuid root.)
var EscalationPrograms = []string{"/usr/bin/sudo", "/usr/bin/su", "/usr/bin/login", "/usr/libexec/security_authtrampoline"}

// RawDevices are device prefixes refused for reading and writing: the raw
// disks (reading them reads every file, denied ones too), packet capture
// and the audit pipe. Only root and the operator group may open them at
// all; the rule holds when cordon runs as root.
var RawDevices = []string{"/dev/disk", "/dev/rdisk", "/dev/bpf", "/dev/auditpipe"}

// Devices are the device files a command may write (their reads are
// covered by the read rules).
var Devices = []string{"/dev/null", "/dev/zero", "/dev/tty", "/dev/dtracehelper"}
