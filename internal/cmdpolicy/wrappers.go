package cmdpolicy

import (
	"strings"
)

// A wrapper is a program that runs another command: sudo, env, timeout,
// xargs, npx, bash -c. cordon judges the wrapper's own command line by the
// rules (without the default decision: a wrapper is as safe as what it
// runs) and then the command it runs, as its own part.

// unwrapped is what a wrapper runs.
type unwrapped struct {
	commands [][]word // commands it runs
	scripts  []string // shell code it runs
	findings []finding
	inShell  bool // the commands run in the same shell (command, builtin)
	// program: it runs a script file, so it is judged as the program the
	// file is (the default decides), with readings naming the script.
	program  bool
	readings [][]word
}

func (u *unwrapped) add(o unwrapped) {
	u.commands = append(u.commands, o.commands...)
	u.scripts = append(u.scripts, o.scripts...)
	u.findings = append(u.findings, o.findings...)
	u.program = u.program || o.program
	u.readings = append(u.readings, o.readings...)
}

// finding is a reason, found while reading the command line, to apply one of
// the undecidable rules.
type finding struct {
	rule   string
	detail string
	// opaque: code runs that cordon cannot see at all, so every rule could
	// apply to it.
	opaque bool
}

func dynamicCode(detail string) finding {
	return finding{rule: ruleDynamicCommand, detail: detail, opaque: true}
}

// joinMode says whether a wrapper passes its operands to a shell as one
// command line (watch 'make test') instead of running them directly.
type joinMode uint8

const (
	joinNever      joinMode = iota
	joinAlways              // sg group cmd...
	joinUnlessFlag          // watch joins unless -x
	joinWithFlag            // entr joins with -s
)

// wrapperSpec describes a wrapper in data.
type wrapperSpec struct {
	opts     optSpec
	operands int  // operands before the command: timeout's DURATION, chroot's NEWROOT
	env      bool // NAME=VALUE operands before the command set its environment
	// scriptOpts take shell code as their value (su -c, flock -c); short
	// names are given as "-c", long ones as "--command".
	scriptOpts []string
	// shortFlags may precede a short script option in a cluster ("-lc").
	shortFlags string
	join       joinMode
	joinFlag   string
	// interactive: with no command it starts an interactive shell.
	interactive bool
	// loadOpts are options that make the command load other code.
	loadOpts []string
	// opaqueOpts are options that make it run code cordon cannot see
	// (screen -X sends commands to a running session).
	opaqueOpts []string
}

// wrapperTables describe the wrappers cordon sees through.
type wrapperTables struct {
	// wrappers are the single-word wrappers, by program name.
	wrappers map[string]*wrapperSpec
	// projectRunners run a command in a project's environment (after the
	// program's global options are removed): "uv run pytest".
	projectRunners map[string]*wrapperSpec
	// pkgRunners run a program from a package, by program name or by
	// program and subcommand ("npm exec").
	pkgRunners map[string]*pkgRunner
	// posixShells are parsed recursively; other shells' code is not POSIX
	// shell syntax, so cordon cannot read it.
	posixShells, otherShells map[string]bool
	shellLongOptions         map[string]bool
	envOptions, xargsOptions optSpec
}

func newWrapperTables() wrapperTables {
	ws := newWrappers()
	for n, w := range newMoreWrappers() {
		ws[n] = w
	}
	return wrapperTables{
		wrappers:       ws,
		projectRunners: newProjectRunners(),
		pkgRunners:     newPkgRunners(),
		posixShells:    optionSet("sh bash dash zsh ksh mksh ash yash posh lksh oksh pdksh rbash"),
		otherShells:    optionSet("fish csh tcsh nu nushell elvish xonsh pwsh powershell"),
		shellLongOptions: optionSet("--login --noprofile --norc --posix --restricted --verbose --debugger --noediting " +
			"--dump-strings --dump-po-strings --wordexp --pretty-print --rpm-requires"),
		envOptions: opts("-u --unset -C --chdir -S --split-string",
			"-i --ignore-environment -0 --null -v --debug --block-signal --default-signal --ignore-signal --list-signal-handling",
			"--help --version"),
		xargsOptions: opts("-a --arg-file -d --delimiter -E -I -L --max-lines -n --max-args -P --max-procs -s --max-chars --process-slot-var --replace",
			"-0 --null -o --open-tty -p --interactive -r --no-run-if-empty -t --verbose -x --exit -e -i -l --eof",
			"--help --version --show-limits"),
	}
}

func newWrappers() map[string]*wrapperSpec {
	return map[string]*wrapperSpec{
		"sudo": {
			opts: opts("-u --user -g --group -h --host -p --prompt -C --close-from -D --chdir -r --role -t --type -T --command-timeout -U --other-user",
				"-A --askpass -b --background -E --preserve-env -H --set-home -i --login -n --non-interactive -P --preserve-groups -S --stdin -s --shell -B --bell -N --no-update -k --reset-timestamp",
				"-l --list -v --validate -K --remove-timestamp -V --version -e --edit"),
			env: true, interactive: true,
		},
		"doas":     {opts: opts("-u -C", "-n -s -L", ""), interactive: true},
		"pkexec":   {opts: opts("--user", "--disable-internal-agent --keep-cwd", "--version --help"), interactive: true},
		"nice":     {opts: optSpec{value: optionSet("-n --adjustment"), flag: optionSet(""), noRun: optionSet("--help --version"), numeric: true}},
		"timeout":  {opts: opts("-s --signal -k --kill-after", "--preserve-status --foreground -v --verbose -p", "--help --version"), operands: 1},
		"gtimeout": {opts: opts("-s --signal -k --kill-after", "--preserve-status --foreground -v --verbose -p", "--help --version"), operands: 1},
		"nohup":    {opts: opts("", "", "--help --version")},
		"stdbuf":   {opts: opts("-i --input -o --output -e --error", "", "--help --version")},
		"ionice":   {opts: opts("-c --class -n --classdata", "-t --ignore", "-p --pid -P --pgid -u --uid --help --version")},
		"chrt": {opts: opts("-T --sched-runtime -P --sched-period -D --sched-deadline",
			"-a --all-tasks -b --batch -d --deadline -e --ext -f --fifo -i --idle -o --other -r --rr -R --reset-on-fork -v --verbose",
			"-p --pid -m --max --help --version"), operands: 1},
		"taskset":  {opts: opts("", "-a --all-tasks -c --cpu-list", "-p --pid --help --version"), operands: 1},
		"setsid":   {opts: opts("", "-c --ctty -f --fork -w --wait", "--help --version")},
		"chroot":   {opts: opts("--userspec --groups", "--skip-chdir", "--help --version"), operands: 1, interactive: true},
		"unbuffer": {opts: opts("", "-p", "")},
		"nsenter": {opts: opts("-t --target -S --setuid -G --setgid",
			"-a --all -m --mount -u --uts -i --ipc -n --net -p --pid -U --user -C --cgroup -T --time -r --root -w --wd -F --no-fork -Z --follow-context --preserve-credentials",
			"--help --version"), interactive: true},
		"unshare": {opts: opts("-R --root -w --wd -S --setuid -G --setgid --propagation --setgroups --map-user --map-group --map-users --map-groups",
			"-m --mount -u --uts -i --ipc -n --net -p --pid -U --user -C --cgroup -T --time -f --fork -r --map-root-user -c --map-current-user --kill-child --mount-proc --keep-caps",
			"--help --version"), interactive: true},
		"setpriv": {opts: opts("--reuid --regid --ruid --rgid --euid --egid --groups --inh-caps --ambient-caps --bounding-set --securebits --pdeathsig --selinux-label --apparmor-profile --landlock-access --landlock-rule",
			"--nnp --no-new-privs --init-groups --keep-groups --clear-groups --reset-env", "-d --dump --list-caps --help --version")},
		"prlimit": {opts: opts("-o --output", "--noheadings --raw --verbose -c -d -e -f -i -l -m -n -q -r -s -t -u -v -x -y", "-p --pid --help --version")},
		"strace": {opts: opts("-e -o -s -u -E -a -b -I -O -P -S -X --output --signal --trace --status --string-limit --user --env",
			"-c -C -d -D -f -F -i -k -n -q -r -t -T -v -w -x -y -z -Z --summary-only --follow-forks --quiet", "-p --attach -V --version -h --help")},
		"ltrace":           {opts: opts("-e -o -s -u -a -n -l -L -x", "-c -C -f -i -r -S -t -T -w", "-p -V --version -h --help")},
		"valgrind":         {opts: opts("", "-q -v --quiet --verbose", "--help --version")},
		"time":             {opts: opts("-f --format -o --output", "-a --append -p --portability -v --verbose -q --quiet", "--help --version")},
		"xvfb-run":         {opts: opts("-n --server-num -s --server-args -e --error-file -f --auth-file -w --wait -p --xauth-protocol", "-a --auto-servernum -l --listen-tcp", "-h --help")},
		"dbus-run-session": {opts: opts("--config-file --dbus-daemon", "", "--help --version")},
		"gosu":             {operands: 1},
		"su-exec":          {operands: 1},
		"proxychains":      {opts: opts("-f", "-q", "")},
		"proxychains4":     {opts: opts("-f", "-q", "")},
		"torsocks":         {opts: opts("-u -p -a -P", "-i -d -q", "-h --help --version"), interactive: true},
		"tsocks":           {},
		"caffeinate":       {opts: opts("-t -w", "-d -i -m -s -u", "")},
		"nocorrect":        {},
		"noglob":           {},
		"exec":             {opts: opts("-a", "-c -l", "")},
		"watch": {opts: opts("-n --interval -q --equexit", "-b --beep -e --errexit -g --chgexit -t --no-title -x --exec -c --color -C --no-color -p --precise -r --no-rerun -w --no-linewrap -d --differences", "-h --help -v --version"),
			join: joinUnlessFlag, joinFlag: "-x"},
		"entr": {opts: opts("", "-a -c -d -n -p -r -s -z", ""), join: joinWithFlag, joinFlag: "-s"},
		"script": {opts: opts("-c --command -E --echo -I --log-in -O --log-out -B --log-io -T --log-timing -m --logging-format -o --output-limit",
			"-a --append -e --return -f --flush -q --quiet -t", "-h --help -V --version"),
			scriptOpts: []string{"-c", "--command"}, shortFlags: "aefqt", interactive: true},
		"flock": {opts: opts("-w --timeout --wait -E --conflict-exit-code -c --command", "-s --shared -x --exclusive -e -u --unlock -n --nonblock --nb -o --close -F --no-fork --verbose", "-h --help -V --version"),
			operands: 1, scriptOpts: []string{"-c", "--command"}, shortFlags: "sxeunoF"},
		"su": {opts: opts("-c --command -s --shell -g --group -G --supp-group -w --whitelist-environment", "-l --login -m -p --preserve-environment -P --pty -f --fast", "-h --help -V --version"),
			scriptOpts: []string{"-c", "--command"}, shortFlags: "lmpPf", operands: 1, interactive: true},
		"sg": {scriptOpts: []string{"-c"}, operands: 1, join: joinAlways, interactive: true},
		"ld.so": {opts: opts("--library-path --argv0 --glibc-hwcaps-prepend --glibc-hwcaps-mask", "--inhibit-cache --inhibit-rpath",
			"--list --verify --help --version --list-tunables --list-diagnostics"), loadOpts: []string{"--preload", "--audit"}},
	}
}

// isDynamicLoader reports whether name is the dynamic loader, which runs the
// program it is given (ld-linux-x86-64.so.2, ld-musl-x86_64.so.1, ld.so).
func isDynamicLoader(name string) bool {
	return name == "ld.so" || strings.HasPrefix(name, "ld-") && strings.Contains(name, ".so")
}

// unwrap reads a wrapper's arguments (after the program name).
func (w *wrapperSpec) unwrap(name string, args []word) unwrapped {
	var u unwrapped
	if name == "su" { // "su -" is "su --login"
		var kept []word
		for _, a := range args {
			if !a.is("-") {
				kept = append(kept, a)
			}
		}
		args = kept
	}
	for _, o := range w.loadOpts {
		for _, a := range args {
			if a.is(o) || a.exact() && strings.HasPrefix(a.value, o+"=") {
				u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: name + " " + o + " loads other code into the program"})
			}
		}
	}
	for _, o := range w.opaqueOpts {
		if len(optionValues(args, o, "", "")) > 0 {
			u.findings = append(u.findings, dynamicCode(name+" "+o+" runs commands cordon cannot see"))
		}
	}
	starts, noRun, ok := w.opts.operandStarts(args, 0)
	if !ok {
		u.findings = append(u.findings, dynamicCode("cordon cannot tell which command "+name+" runs from its options"))
		return u
	}
	for _, start := range starts {
		i := start + w.operands
		// Shell code given with an option, before the operands ("su -c
		// code user") or right after them ("flock FILE -c code").
		codes := w.scriptValues(args[:min(start, len(args))])
		if i < len(args) {
			codes = append(codes, w.scriptValues(args[i:min(i+2, len(args))])...)
		}
		if len(codes) > 0 {
			for _, c := range codes {
				u.addScript(c, name)
			}
			continue
		}
		if w.operands > 0 && i < len(args) && args[i].is("--") {
			i++ // npm explore PKG -- CMD
		}
		if w.env {
			for i < len(args) {
				n, v, isAssign := splitAssignment(args[i])
				if !isAssign {
					break
				}
				u.add(envAssignment(n, v))
				i++
			}
		}
		if i >= len(args) {
			if !noRun && w.interactive {
				u.findings = append(u.findings, finding{rule: ruleScriptFile, opaque: true,
					detail: name + " without a command starts an interactive shell"})
			}
			continue
		}
		cmd := args[i:]
		if w.joins(args[:start]) {
			u.addScript(joinScript(cmd), name)
			continue
		}
		u.commands = append(u.commands, cmd)
	}
	return u
}

// scriptValues returns the values of the wrapper's script options in args.
func (w *wrapperSpec) scriptValues(args []word) []word {
	var codes []word
	for _, o := range w.scriptOpts {
		if strings.HasPrefix(o, "--") {
			codes = append(codes, optionValues(args, "", o, "")...)
		} else {
			codes = append(codes, optionValues(args, o, "", w.shortFlags)...)
		}
	}
	return codes
}

func (w *wrapperSpec) joins(options []word) bool {
	has := func() bool {
		for _, o := range options {
			if o.is(w.joinFlag) || o.exact() && !strings.HasPrefix(o.value, "--") && strings.HasPrefix(o.value, "-") &&
				len(w.joinFlag) == 2 && strings.ContainsRune(o.value[1:], rune(w.joinFlag[1])) {
				return true
			}
		}
		return false
	}
	switch w.join {
	case joinAlways:
		return true
	case joinUnlessFlag:
		return !has()
	case joinWithFlag:
		return has()
	}
	return false
}

// joinScript joins words into one shell command line, as watch and sg do;
// a word only known at run time makes the whole line unknown.
func joinScript(ws []word) word {
	parts := make([]string, len(ws))
	for i, w := range ws {
		if !w.exact() {
			return unknownWord(joinWords(ws))
		}
		parts[i] = w.value
	}
	s := strings.Join(parts, " ")
	return word{value: s, text: quoteForDisplay(s)}
}

// addScript records shell code the wrapper runs.
func (u *unwrapped) addScript(code word, runner string) {
	if code.exact() {
		u.scripts = append(u.scripts, code.value)
		return
	}
	u.findings = append(u.findings, dynamicCode(runner+" runs shell code only known at run time: "+code.text))
}

// envAssignment judges NAME=VALUE given to a command's environment.
func envAssignment(name string, value word) unwrapped {
	var u unwrapped
	if name == "BASH_ALIASES" { // BASH_ALIASES[x]='git push' defines an alias
		u.findings = append(u.findings, finding{rule: ruleAlias, detail: "BASH_ALIASES defines an alias"})
		u.addScript(value, "BASH_ALIASES")
		return u
	}
	switch envEffect(name) {
	case runsScript:
		u.addScript(value, name)
	case loadsCode:
		u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "sets " + name})
	}
	return u
}

// envWrapper reads env's arguments: options, NAME=VALUE, then the command.
func envWrapper(args []word) unwrapped {
	var u unwrapped
	split := optionValues(args, "-S", "--split-string", "i0v")
	starts, _, ok := tables().envOptions.operandStarts(args, 0)
	if !ok {
		u.findings = append(u.findings, dynamicCode("cordon cannot tell which command env runs from its options"))
		return u
	}
	for _, start := range starts {
		i := start
		for i < len(args) {
			n, v, isAssign := splitAssignment(args[i])
			if !isAssign {
				break
			}
			u.add(envAssignment(n, v))
			i++
		}
		if len(split) > 0 {
			// -S splits its value into words like a small shell would.
			rest := append(append([]word(nil), split...), args[i:]...)
			u.addScript(joinScript(rest), "env -S")
			continue
		}
		if i < len(args) {
			u.commands = append(u.commands, args[i:])
		}
	}
	return u
}

// commandWrapper reads `command [-p] [-v|-V] cmd...`: with -v or -V it only
// looks the name up.
func commandWrapper(args []word) unwrapped {
	i := 0
	for ; i < len(args) && args[i].exact() && strings.HasPrefix(args[i].value, "-") && args[i].value != "-"; i++ {
		if args[i].value == "--" {
			i++
			break
		}
		if strings.ContainsAny(args[i].value, "vV") {
			return unwrapped{}
		}
	}
	if i >= len(args) {
		return unwrapped{}
	}
	return unwrapped{commands: [][]word{args[i:]}}
}

// busyboxWrapper: busybox APPLET args.
func busyboxWrapper(args []word) unwrapped {
	if len(args) == 0 || args[0].exact() && strings.HasPrefix(args[0].value, "-") {
		return unwrapped{}
	}
	return unwrapped{commands: [][]word{args}}
}

// xargsWrapper reads xargs: the command (default echo) gets arguments read
// from standard input, which are unknown.
func xargsWrapper(args []word) unwrapped {
	replace := optionValues(args, "-I", "--replace", "0oprtx")
	for _, a := range args {
		if a.exact() && strings.HasPrefix(a.value, "-i") && !strings.HasPrefix(a.value, "--") {
			replace = append(replace, exactWord(strings.TrimPrefix(a.value, "-i")))
		}
	}
	starts, noRun, ok := tables().xargsOptions.operandStarts(args, 0)
	if !ok {
		return unwrapped{findings: []finding{dynamicCode("cordon cannot tell which command xargs runs from its options")}}
	}
	var u unwrapped
	for _, start := range starts {
		cmd := append([]word(nil), args[start:]...)
		if len(cmd) == 0 {
			if noRun {
				continue
			}
			cmd = []word{exactWord("echo")}
		}
		if len(replace) > 0 {
			for i, w := range cmd {
				for _, r := range replace {
					if r.exact() && w.exact() && (r.value == "" && strings.Contains(w.value, "{}") || r.value != "" && strings.Contains(w.value, r.value)) {
						cmd[i] = unknownWord(w.text)
					}
				}
			}
		} else {
			cmd = append(cmd, spreadWord("<arguments from stdin>"))
		}
		u.commands = append(u.commands, cmd)
	}
	return u
}

// findExec extracts the commands of find's -exec, -execdir, -ok and -okdir.
// "{}" is a file name find substitutes, so it is unknown; with "+" it is
// many of them.
func findExec(args []word) unwrapped {
	var u unwrapped
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !(a.is("-exec") || a.is("-execdir") || a.is("-ok") || a.is("-okdir")) {
			continue
		}
		var cmd []word
		j := i + 1
		for ; j < len(args); j++ {
			w := args[j]
			if w.is(";") {
				break
			}
			if w.is("+") && len(cmd) > 0 && cmd[len(cmd)-1].is("{}") {
				cmd[len(cmd)-1] = spreadWord("{}")
				break
			}
			if w.exact() && strings.Contains(w.value, "{}") {
				w = unknownWord(w.text)
			}
			cmd = append(cmd, w)
		}
		if len(cmd) > 0 {
			u.commands = append(u.commands, cmd)
		}
		i = j
	}
	return u
}

// fdExec extracts the command of fd's -x/--exec and -X/--exec-batch: the
// rest of the arguments, up to ";".
func fdExec(args []word) unwrapped {
	var u unwrapped
	for i, a := range args {
		if a.is("-x") || a.is("--exec") || a.is("-X") || a.is("--exec-batch") {
			var cmd []word
			for _, w := range args[i+1:] {
				if w.is(";") {
					break
				}
				if w.exact() && strings.Contains(w.value, "{") {
					w = unknownWord(w.text)
				}
				cmd = append(cmd, w)
			}
			if len(cmd) > 0 {
				cmd = append(cmd, spreadWord("{}"))
				u.commands = append(u.commands, cmd)
			}
			break
		}
	}
	return u
}

// isShellOptionCluster reports whether s (after the '-' or '+') is a run of
// single-letter shell options. Anything else is an operand: the code of -c,
// or a script file.
func isShellOptionCluster(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("abcefhikmnprstuvxBCDEHPTlOo", rune(s[i])) {
			return false
		}
	}
	return true
}

// shellInvocation reads `sh [options] [-c code | file] [args]`.
//
// Code on the command line (-c, a literal here-document) is judged by its
// content. A script file, named or given as standard input (sh < FILE), is
// judged like running the file itself (./script): by the rules for the
// program and the script, with the sandbox confining whatever the file
// does; cordon cannot see inside files, whichever way they are started.
// Code from a pipe or the terminal (curl ... | sh) is code cordon cannot see
// at all.
func shellInvocation(name string, args []word, stdin input) unwrapped {
	if !tables().posixShells[name] {
		return otherShellInvocation(name, args, stdin)
	}
	var u unwrapped
	hasC, hasS, interactive := false, false, false
	i := 0
options:
	for ; i < len(args); i++ {
		w := args[i]
		if !w.exact() {
			break
		}
		a := w.value
		switch {
		case a == "--" || a == "-":
			i++
			break options
		case a == "--version" || a == "--help":
			return u
		case a == "--rcfile" || a == "--init-file":
			i++
		case strings.HasPrefix(a, "--"):
			if !tables().shellLongOptions[a] {
				break options // not an option: the shell takes it as an operand
			}
		case (strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+")) && isShellOptionCluster(a[1:]):
			for k := 1; k < len(a); k++ {
				switch a[k] {
				case 'c':
					hasC = true
				case 'i':
					interactive = true
				case 's':
					hasS = true
				case 'o', 'O':
					if k == len(a)-1 {
						i++
					}
				}
			}
		default:
			break options
		}
	}
	switch {
	case hasC && i < len(args):
		u.addScript(args[i], name+" -c")
	case hasC:
		// "sh -c" without code is an error; nothing runs.
	case i < len(args) && !hasS && !isStdinPath(args[i]):
		u.add(scriptFile(name, args[i], args[i+1:]))
	case stdin.text != nil && !interactive:
		u.scripts = append(u.scripts, *stdin.text)
	case stdin.file != nil:
		u.add(scriptFile(name, *stdin.file, nil))
	default:
		u.findings = append(u.findings, finding{rule: ruleScriptFile, opaque: true,
			detail: name + " reads its commands from a pipe or the terminal"})
	}
	return u
}

// scriptFile judges a shell running the script file file with args: as the
// command "file args", the way ./file runs. A process substitution
// (bash <(curl ...)) is a pipe, not a file.
func scriptFile(runner string, file word, args []word) unwrapped {
	var u unwrapped
	if file.pipe {
		u.findings = append(u.findings, finding{rule: ruleScriptFile, opaque: true,
			detail: runner + " runs code from the pipe " + file.text})
		return u
	}
	if !file.exact() {
		u.findings = append(u.findings, finding{rule: ruleDynamicCommand,
			detail: runner + " runs the script " + file.text + ", which is only known at run time"})
	}
	u.program = true
	u.readings = append(u.readings, append([]word{file}, args...))
	return u
}

// isStdinPath reports whether a script operand names standard input.
func isStdinPath(w word) bool {
	return w.is("/dev/stdin") || w.is("/dev/fd/0") || w.is("/proc/self/fd/0")
}

// otherShellInvocation reads a shell whose language cordon does not parse
// (fish, csh, pwsh, nu, ...): code given with an option (fish -c, pwsh
// -Command) is visible but unreadable, so it could do anything; a script
// file is judged like any script file.
func otherShellInvocation(name string, args []word, stdin input) unwrapped {
	var u unwrapped
	pwsh := name == "pwsh" || name == "powershell"
	var operand *word
	for i := range args {
		w := args[i]
		if !w.exact() {
			if operand == nil {
				operand = &args[i]
			}
			continue
		}
		a := strings.ToLower(w.value)
		isCode := a == "-c" || a == "--command" || a == "-i" || a == "--interactive" || a == "-C" || strings.HasPrefix(a, "--command=") ||
			strings.HasPrefix(a, "--init-command") || a == "-" ||
			pwsh && (strings.HasPrefix(a, "-c") || strings.HasPrefix(a, "-e") || strings.HasPrefix(a, "/c") || strings.HasPrefix(a, "/e"))
		if isCode {
			u.findings = append(u.findings, finding{rule: ruleScriptFile, opaque: true,
				detail: name + " code is not POSIX shell syntax, which is all cordon reads"})
			return u
		}
		if operand == nil && !strings.HasPrefix(a, "-") {
			operand = &args[i]
		}
	}
	switch {
	case operand != nil:
		u.add(scriptFile(name, *operand, nil))
	case stdin.file != nil:
		u.add(scriptFile(name, *stdin.file, nil))
	default:
		u.findings = append(u.findings, finding{rule: ruleScriptFile, opaque: true,
			detail: name + " reads its commands from a pipe or the terminal, in a language cordon does not read"})
	}
	return u
}

// pkgRunner describes npx-like runners: they fetch a package if needed and
// run one of its programs.
type pkgRunner struct {
	opts optSpec
	// packageOpts name the package separately, so the first operand is the
	// program itself.
	packageOpts []string
	scriptOpts  []string // npx -c 'code'
	shellFlag   string   // pnpm dlx -c: the operands are shell code
}

func newPkgRunners() map[string]*pkgRunner {
	npx := &pkgRunner{
		opts: opts("-p --package -c --call -w --workspace --registry --cache --userconfig --prefix",
			"-y --yes --no --no-install --ignore-existing -q --quiet --silent --workspaces --include-workspace-root", "-h --help -v --version"),
		packageOpts: []string{"-p", "--package"},
		scriptOpts:  []string{"-c", "--call"},
	}
	uvx := &pkgRunner{opts: opts("--from --with --with-editable --with-requirements --python -p --index --default-index --extra-index-url --index-url -f --find-links --constraint --override",
		"--isolated -q --quiet -v --verbose --offline --no-cache -n --refresh -U --upgrade --native-tls", "-h --help -V --version"),
		packageOpts: []string{"--from"}}
	return map[string]*pkgRunner{
		"npx":         npx,
		"npm exec":    npx,
		"npm x":       npx,
		"pnpx":        npx,
		"pnpm dlx":    {opts: opts("--package --allow-build", "-c --shell-mode --silent -s", "--help"), packageOpts: []string{"--package"}, shellFlag: "-c"},
		"yarn dlx":    {opts: opts("-p --package", "-q --quiet", "-h --help"), packageOpts: []string{"-p", "--package"}},
		"bunx":        {opts: opts("-p --package", "--bun --silent --verbose", "-h --help"), packageOpts: []string{"-p", "--package"}},
		"bun x":       {opts: opts("-p --package", "--bun --silent --verbose", "-h --help"), packageOpts: []string{"-p", "--package"}},
		"uvx":         uvx,
		"uv tool run": uvx,
		"pipx run":    {opts: opts("--spec --python --pip-args --index-url -i", "--no-cache --path --pypackages -v --verbose -q --quiet", "-h --help"), packageOpts: []string{"--spec"}},
	}
}

func (r *pkgRunner) unwrap(name string, args []word) unwrapped {
	var u unwrapped
	for _, o := range r.scriptOpts {
		var codes []word
		if strings.HasPrefix(o, "--") {
			codes = optionValues(args, "", o, "")
		} else {
			codes = optionValues(args, o, "", "yq")
		}
		for _, c := range codes {
			u.addScript(c, name+" "+o)
		}
	}
	if len(u.scripts)+len(u.findings) > 0 {
		return u
	}
	starts, _, ok := r.opts.operandStarts(args, 0)
	if !ok {
		u.findings = append(u.findings, dynamicCode("cordon cannot tell which program "+name+" runs from its options"))
		return u
	}
	named := false
	for _, o := range r.packageOpts {
		if len(optionValues(args, o, "", "")) > 0 || strings.HasPrefix(o, "--") && len(optionValues(args, "", o, "")) > 0 {
			named = true
		}
	}
	shell := r.shellFlag != "" && hasOption(args, r.shellFlag)
	for _, start := range starts {
		if start >= len(args) {
			continue
		}
		cmd := append([]word(nil), args[start:]...)
		if shell {
			u.addScript(joinScript(cmd), name)
			continue
		}
		if !named {
			prog, ok := packageProgram(cmd[0])
			if !ok {
				u.findings = append(u.findings, dynamicCode(name+" runs a package whose program name cordon cannot tell: "+cmd[0].text))
				continue
			}
			cmd[0] = prog
		}
		u.commands = append(u.commands, cmd)
	}
	return u
}

func hasOption(args []word, o string) bool {
	for _, a := range args {
		if a.is(o) {
			return true
		}
	}
	return false
}

// packageProgram turns a package spec into the program it runs:
// "eslint@8" is eslint, "@scope/tool@1.2" is tool, "black==24.1" is black.
func packageProgram(spec word) (word, bool) {
	if !spec.exact() {
		return spec, true // judged as a program only known at run time
	}
	s := spec.value
	if strings.Contains(s, "://") || strings.HasPrefix(s, "git+") || strings.HasPrefix(s, "github:") ||
		strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "file:") {
		return word{}, false
	}
	if strings.HasPrefix(s, "@") {
		slash := strings.Index(s, "/")
		if slash < 0 {
			return word{}, false
		}
		s = s[slash+1:]
	} else if strings.Contains(s, "/") {
		return word{}, false // a GitHub shorthand
	}
	if i := strings.IndexAny(s, "@=<>~![ "); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return word{}, false
	}
	return word{value: s, text: spec.text}, true
}

func newProjectRunners() map[string]*wrapperSpec {
	return map[string]*wrapperSpec{
		"uv run": {opts: opts("--with --with-editable --with-requirements --python -p --package --extra --group --only-group --no-group --index --env-file --directory --project --default-index --index-url --extra-index-url",
			"--no-sync --frozen --locked --isolated --all-extras --no-dev --active --no-project -q --quiet -v --verbose --offline --no-cache -m --module -s --script --all-packages --no-env-file --exact", "-h --help")},
		"poetry run":     {},
		"pipenv run":     {},
		"pdm run":        {opts: opts("", "-v --verbose -s --site-packages", "-l --list -h --help")},
		"hatch run":      {},
		"rye run":        {},
		"bundle exec":    {opts: opts("", "--keep-file-descriptors", "")},
		"conda run":      {opts: opts("-n --name -p --prefix --cwd", "--no-capture-output --live-stream -v --verbose", "-h --help")},
		"mamba run":      {opts: opts("-n --name -p --prefix --cwd", "--no-capture-output --live-stream -v --verbose", "-h --help")},
		"micromamba run": {opts: opts("-n --name -p --prefix --cwd", "--no-capture-output --live-stream -v --verbose", "-h --help")},
		"asdf exec":      {},
		"direnv exec":    {operands: 1},
		"op run":         {opts: opts("--env-file --environment", "--no-masking", "-h --help")},
		"doppler run": {opts: opts("-p --project -c --config --token --scope --name-transformer --mount --mount-format --mount-template --mount-max-reads --fallback --command",
			"--preserve-env --forward-signals --no-fallback --silent", "-h --help"), scriptOpts: []string{"--command"}},
		"infisical run":  {opts: opts("--env --path --token --projectId --tags --domain --command", "--expand --silent --recursive --include-imports", "-h --help"), scriptOpts: []string{"--command"}},
		"aws-vault exec": {opts: opts("-d --duration -t --mfa-token --region -r --prompt", "-n --no-session -j --json -s --server --ec2-server --ecs-server --lazy --stdout", "-h --help"), operands: 1},
		"yarn exec":      {},
		"pnpm exec":      {opts: opts("-C --dir -F --filter --workspace-concurrency", "-r --recursive -c --shell-mode --parallel --resume-from --report-summary", "-h --help"), join: joinWithFlag, joinFlag: "-c"},
		"mise exec":      {opts: opts("-C --cd -j --jobs", "--raw -q --quiet", "-h --help")},
		"mise x":         {opts: opts("-C --cd -j --jobs", "--raw -q --quiet", "-h --help")},
		"perf stat": {opts: opts("-e --event -o --output -p --pid -t --tid -r --repeat -C --cpu -G --cgroup -x --field-separator -I --interval-print "+
			"-D --delay -M --metrics --log-fd --control --pre --post -j --json -u --uid",
			"-a --all-cpus -A --no-aggr -B --big-num -c --scale -d --detailed -n --null -q --quiet -S --sync -T --transaction -v --verbose --per-core --per-socket --per-thread", "-h --help"),
			scriptOpts: []string{"--pre", "--post"}},
		"perf record": {opts: opts("-e --event -o --output -p --pid -t --tid -F --freq -c --count -C --cpu -m --mmap-pages --call-graph -G --cgroup -u --uid -D --delay --switch-output --control",
			"-a --all-cpus -g -q --quiet -v --verbose -s --stat -n --no-samples -N --no-buildid-cache -R --raw-samples -T --timestamp -P --period -b --branch-any -W --weight", "-h --help")},
		"perf trace": {opts: opts("-e --event --expr -o --output -p --pid -t --tid -C --cpu -u --uid --duration -m --mmap-pages",
			"-a --all-cpus -s --summary -S --with-summary -f --no-syscalls -q --quiet -v --verbose -T --time", "-h --help")},
		"ip netns":    {operands: 1},
		"ip vrf":      {operands: 1},
		"npm explore": {operands: 1, join: joinAlways, interactive: true},
	}
}

// nixCommand reads `nix develop|shell ... -c|--command cmd...` and
// `nix-shell ... --run|--command code`.
func nixCommand(name string, args []word) unwrapped {
	var u unwrapped
	if name == "nix-shell" {
		for _, c := range append(optionValues(args, "", "--run", ""), optionValues(args, "", "--command", "")...) {
			u.addScript(c, "nix-shell")
		}
		if len(u.scripts)+len(u.findings) == 0 {
			u.findings = append(u.findings, finding{rule: ruleScriptFile, opaque: true,
				detail: "nix-shell without --run starts an interactive shell or runs a script file"})
		}
		return u
	}
	for i, a := range args {
		if a.is("-c") || a.is("--command") {
			if i+1 < len(args) {
				u.commands = append(u.commands, args[i+1:])
			}
			return u
		}
	}
	u.findings = append(u.findings, finding{rule: ruleScriptFile, opaque: true,
		detail: "nix " + name + " without --command starts an interactive shell"})
	return u
}
