package seccomp

import (
	"fmt"
	"sort"

	"golang.org/x/net/bpf"
)

// Options says which rules to add to the baseline, and for which
// architecture.
type Options struct {
	// Arch is the GOARCH whose system call numbers and audit architecture
	// the filter uses: "amd64" or "arm64". Pass runtime.GOARCH; [Filter.Install]
	// refuses a filter built for another architecture.
	Arch string

	// DenyNetworkExceptTCP refuses every socket that Landlock's TCP rules do
	// not cover: IPv4 and IPv6 sockets that are not TCP streams, address
	// families other than unix, inet, inet6 and netlink, and TCP Fast Open
	// sends. For the mode without a network namespace, where Landlock's TCP
	// rules cut TCP and this cuts the rest.
	DenyNetworkExceptTCP bool

	// Supervise adds the guard (see [Filter.InstallGuard]): connect(2) and
	// bind(2) are handed to a supervisor that reads the address, fetches the
	// socket and makes the call itself (SECCOMP_RET_USER_NOTIF), unix
	// datagram sockets are refused (they reach other sockets by an address
	// in memory, through sendto and sendmsg), and the command can neither
	// install a listener of its own nor use the two calls the supervisor
	// needs (process_vm_readv, pidfd_getfd).
	Supervise bool

	// SuperviseFiles, with Supervise, also hands the supervisor every call
	// that creates a name in the filesystem or opens a file for writing:
	// mkdir, mknod, rename, link, symlink (and their *at forms), creat,
	// open and openat with O_WRONLY, O_RDWR, O_CREAT or O_TRUNC, openat2,
	// and truncate.
	SuperviseFiles bool

	// ProtectPID and ProtectPGID, with Supervise, are the process and
	// process group of the sandbox's init in the mode without a PID
	// namespace, where the command and the init's forking thread share one
	// Landlock domain, so Landlock's signal scope lets the command signal
	// the init. The guard then refuses every signal to that process (kill,
	// tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo), to its group, and to -1
	// (every process the caller may signal); tkill, which names a thread
	// alone, is refused, and pidfd_send_signal, whose target (a pidfd or a
	// /proc/PID directory) a filter cannot see, looks absent (ENOSYS: Go
	// and other runtimes then fall back to kill). SIGURG from the init to
	// itself stays allowed: Go's runtime preempts its threads with it.
	// Zero: not protected (a PID namespace's init ignores SIGKILL and
	// SIGSTOP from inside it).
	ProtectPID, ProtectPGID int
}

// A Filter is a compiled seccomp-bpf program and the options it was built
// from; with [Options.Supervise] also a second program, the guard.
type Filter struct {
	opts  Options
	rules []rule // the rules that exist on opts.Arch, in program order
	prog  []bpf.RawInstruction
	// guardRules and guard are the guard's rules and program, or nil.
	guardRules []rule
	guard      []bpf.RawInstruction
	// installed records what Install and InstallGuard put in force on this
	// process, for Verify.
	installed, guardInstalled bool
}

// Kernel limits on a classic BPF program: BPF_MAXINSNS instructions, and
// conditional jumps encode their offsets in one byte.
const (
	maxInstructions = 4096
	maxShortJump    = 255
)

// Offsets into struct seccomp_data (include/uapi/linux/seccomp.h).
const (
	offsetNr   = 0
	offsetArch = 4
	offsetArgs = 16
)

// argLowOffset is where the low 32 bits of argument i sit on a little-endian
// architecture (every architecture in arches).
func argLowOffset(i int) uint32 { return offsetArgs + 8*uint32(i) }

// Compile builds the filter for o. It is pure: it runs on every OS and for
// every supported architecture whatever the host is.
func Compile(o Options) (*Filter, error) {
	a, ok := arches[o.Arch]
	if !ok {
		return nil, fmt.Errorf("seccomp: no system call table for architecture %q; cordon's filter supports %v", o.Arch, supportedArches())
	}
	if o.SuperviseFiles && !o.Supervise {
		return nil, fmt.Errorf("seccomp: SuperviseFiles needs Supervise")
	}
	rules, prog, err := compile(a, rulesFor(o))
	if err != nil {
		return nil, fmt.Errorf("seccomp: building the %s filter: %w", a.name, err)
	}
	f := &Filter{opts: o, rules: rules, prog: prog}
	if g := guardRulesFor(o); g != nil {
		if f.guardRules, f.guard, err = compile(a, g); err != nil {
			return nil, fmt.Errorf("seccomp: building the %s guard: %w", a.name, err)
		}
	}
	return f, nil
}

// Summary lists, one line each, what the filter does on its architecture,
// for enforcement reports and --explain.
func (f *Filter) Summary() []string {
	a := arches[f.opts.Arch]
	lines := []string{fmt.Sprintf("architecture other than %s (audit arch %#x): kill process", a.name, a.auditArch)}
	if a.rejectX32 {
		lines = append(lines, "x32 system calls: kill process")
	}
	for _, r := range f.rules {
		lines = append(lines, r.String())
	}
	lines = append(lines, "anything else: allow")
	for _, r := range f.guardRules {
		lines = append(lines, "command only: "+r.String())
	}
	return lines
}

func supportedArches() []string {
	names := make([]string, 0, len(arches))
	for name := range arches {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// knownSyscall reports whether any architecture has a number for name, so a
// misspelt rule is an error rather than a rule silently left out everywhere.
func knownSyscall(name string) bool {
	for _, a := range arches {
		if _, ok := a.numbers[name]; ok {
			return true
		}
	}
	return false
}

// compile turns a rule table into a program:
//
//	check the architecture, kill on mismatch (and on x32 where it exists)
//	for each system call that has rules:
//	    not this number? jump to the next system call
//	    for each rule: all checks hold? return its action
//	    return allow
//	return allow
//
// Rules for one system call are grouped in the order of their first
// appearance, keeping their relative order. It returns the rules that made
// it into the program (those whose system call exists on a) in program order.
func compile(a *arch, table []rule) ([]rule, []bpf.RawInstruction, error) {
	type group struct {
		nr    uint32
		rules []rule
	}
	var groups []*group
	byName := map[string]*group{}
	for _, r := range table {
		if !knownSyscall(r.syscall) {
			return nil, nil, fmt.Errorf("rule for unknown system call %q", r.syscall)
		}
		nr, ok := a.numbers[r.syscall]
		if !ok {
			continue // does not exist on this architecture, so nothing to refuse
		}
		g := byName[r.syscall]
		if g == nil {
			g = &group{nr: nr}
			byName[r.syscall] = g
			groups = append(groups, g)
		}
		g.rules = append(g.rules, r)
	}

	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offsetArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: a.auditArch, SkipTrue: 1},
		bpf.RetConstant{Val: retKillProcess},
		bpf.LoadAbsolute{Off: offsetNr, Size: 4},
	}
	if a.rejectX32 {
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: x32SyscallBit, SkipFalse: 2},
			// Number -1 has the x32 bit set but is no x32 call: the kernel
			// answers it with ENOSYS without running any system call, and
			// tracers use it to skip one.
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0xffffffff, SkipTrue: 1},
			bpf.RetConstant{Val: retKillProcess},
		)
	}

	var kept []rule
	for _, g := range groups {
		var body []bpf.Instruction
		for i, r := range g.rules {
			if len(r.when) == 0 && i != len(g.rules)-1 {
				return nil, nil, fmt.Errorf("%s: rule %q always matches, so the rules after it could never apply", r.syscall, r)
			}
			code, err := compileRule(r)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", r.syscall, err)
			}
			body = append(body, code...)
		}
		if len(g.rules[len(g.rules)-1].when) != 0 {
			body = append(body, bpf.RetConstant{Val: retAllow})
		}
		// The accumulator still holds the number when this test runs: every
		// path through a body ends in a return, so only the "not this
		// number" jump reaches the next group.
		if len(body) <= maxShortJump {
			prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: g.nr, SkipFalse: uint8(len(body))})
		} else {
			prog = append(prog,
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: g.nr, SkipTrue: 1},
				bpf.Jump{Skip: uint32(len(body))},
			)
		}
		prog = append(prog, body...)
		kept = append(kept, g.rules...)
	}
	prog = append(prog, bpf.RetConstant{Val: retAllow})

	if len(prog) > maxInstructions {
		return nil, nil, fmt.Errorf("%d instructions, more than the kernel's limit of %d", len(prog), maxInstructions)
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, nil, fmt.Errorf("assembling: %w", err)
	}
	return kept, raw, nil
}

// compileRule emits the checks of r followed by the return of its action.
// A failed check jumps just past the return, to the next rule of the same
// system call (or the group's final allow).
func compileRule(r rule) ([]bpf.Instruction, error) {
	size := 1 // the return
	for _, c := range r.when {
		if c.arg < 0 || c.arg > 5 {
			return nil, fmt.Errorf("rule %q: argument %d does not exist (0 to 5)", r, c.arg)
		}
		switch c.op {
		case opIn, opNotIn:
			if len(c.values) == 0 {
				return nil, fmt.Errorf("rule %q: a set check needs values", r)
			}
			size += 1 + len(c.values)
			if c.mask != 0 {
				size++
			}
		case opAnyBit:
			if c.mask == 0 || len(c.values) != 0 {
				return nil, fmt.Errorf("rule %q: a bit check needs a mask and no values", r)
			}
			size += 2
		default:
			return nil, fmt.Errorf("rule %q: unknown check %d", r, c.op)
		}
	}
	if size-1 > maxShortJump {
		return nil, fmt.Errorf("a rule needs %d instructions, more than a conditional jump can skip (%d); split it", size, maxShortJump)
	}

	code := make([]bpf.Instruction, 0, size)
	toFail := func() uint8 { return uint8(size - len(code) - 1) }
	for _, c := range r.when {
		code = append(code, bpf.LoadAbsolute{Off: argLowOffset(c.arg), Size: 4})
		switch c.op {
		case opIn:
			if c.mask != 0 {
				code = append(code, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: c.mask})
			}
			for i, v := range c.values {
				if last := len(c.values) - 1; i < last {
					// Matched: skip the remaining comparisons to the next check.
					code = append(code, bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipTrue: uint8(last - i)})
				} else {
					code = append(code, bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipFalse: toFail()})
				}
			}
		case opNotIn:
			if c.mask != 0 {
				code = append(code, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: c.mask})
			}
			for _, v := range c.values {
				code = append(code, bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipTrue: toFail()})
			}
		case opAnyBit:
			code = append(code, bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: c.mask, SkipFalse: toFail()})
		}
	}
	code = append(code, bpf.RetConstant{Val: uint32(r.action)})
	return code, nil
}
