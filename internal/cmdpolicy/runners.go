package cmdpolicy

import (
	"regexp"
	"strings"
)

// More programs that run a command they are given. The simple ones are
// wrapperSpecs (newMoreWrappers); the ones whose command line needs its own
// reading are runners.

// runner reads the arguments (after the program name) of a program that runs
// commands or shell code, and what it runs.
type runner func(args []word, stdin input) unwrapped

func newMoreWrappers() map[string]*wrapperSpec {
	setarchFlags := "-v --verbose -R --addr-no-randomize -F --fdpic-funcptrs -Z --mmap-page-zero -L --addr-compat-layout " +
		"-X --read-implies-exec -B --32bit -I --short-inode -S --whole-seconds -T --sticky-timeouts -3 --3gb --4gb --uname-2.6"
	setarch := &wrapperSpec{opts: opts("", setarchFlags, "--list -h --help -V --version"), interactive: true}
	ws := map[string]*wrapperSpec{
		"numactl": {opts: opts("-N --cpunodebind -m --membind -C --physcpubind -i --interleave -p --preferred -P --preferred-many -w --weighted-interleave",
			"-l --localalloc -a --all -b --balancing", "-H --hardware -s --show -V --version -h --help")},
		"eatmydata": {},
		"nocache":   {},
		"chronic":   {opts: opts("", "-e -v", "")},
		"ifne":      {opts: opts("", "-n", "")},
		"faketime":  {opts: opts("", "-m -f --exclude-monotonic --disable-shm --date-prog", "-h --help -v --version"), operands: 1},
		"fakeroot":  {opts: opts("-l --lib --faked -s -i -b", "-u --unknown-is-real", "-h --help -v --version"), interactive: true},
		"firejail": {opts: opts("", "--noprofile --quiet --private --private-dev --private-tmp --nonewprivs --noroot --seccomp --nodbus --nosound --novideo --no3d --allusers --debug",
			"--help --version --list --tree --top --ls --get --put --shutdown"), interactive: true},
		"bwrap": {opts: optSpec{
			value: optionSet("--args --uid --gid --hostname --chdir --unsetenv --lock-file --sync-fd --tmpfs --dev --proc --dir --mqueue --exec-label --file-label " +
				"--seccomp --add-seccomp-fd --userns --userns2 --pidns --info-fd --json-status-fd --block-fd --userns-block-fd --cap-add --cap-drop --perms --size --argv0 --remount-ro"),
			pair: optionSet("--bind --bind-try --dev-bind --dev-bind-try --ro-bind --ro-bind-try --symlink --setenv --file --bind-data --ro-bind-data --chmod"),
			flag: optionSet("--unshare-all --share-net --unshare-user --unshare-user-try --unshare-ipc --unshare-pid --unshare-net --unshare-uts --unshare-cgroup " +
				"--unshare-cgroup-try --die-with-parent --as-pid-1 --new-session --clearenv --disable-userns --assert-userns-disabled --level-prefix"),
			noRun: optionSet("--help --version")}},
		"rlwrap": {opts: opts("-b -C -D -e -f -F -g -H -l -M -O -P -q -s -S -t -w -z", "-c -h -i -I -n -N -o -r -R -U -W -X -a -m -p", "-v --version --help"),
			loadOpts: []string{"-z", "--filter"}},
		"ssh-agent":   {opts: opts("-a -E -O -P -t", "-c -s -D -d", "-k")},
		"dbus-launch": {opts: opts("--config-file --autolaunch", "--sh-syntax --csh-syntax --auto-syntax --binary-syntax --close-stderr --exit-with-session --exit-with-x11", "--version --help")},
		"sem": {opts: opts("-j --jobs --id --semaphorename --timeout --st --semaphoretimeout", "--fg --bg -u --ungroup --line-buffer --lb -q --quiet", "--wait -W --help --version"),
			join: joinAlways},
		"chpst":    {opts: opts("-u -U -b -e -/ -n -l -L -m -d -o -p -f -c -r", "-P -0 -1 -2 -v", "")},
		"cpulimit": {opts: opts("-l --limit -p --pid -e --exe -c --cpu", "-z --lazy -i --include-children -v --verbose -k --kill -r --restore -q --quiet -b --background -f --foreground", "-h --help")},
		"flatpak-spawn": {opts: opts("--env --forward-fd --directory --app-path --usr-path --unset-env",
			"--host --clear-env --latest-version --no-network --sandbox --watch-bus --expose-pids --share-pids --verbose", "--help")},
		"systemd-run": {opts: opts("-u --unit -p --property --description --slice -E --setenv --uid --gid --nice -D --working-directory --on-active --on-boot "+
			"--on-startup --on-unit-active --on-unit-inactive --on-calendar --timer-property -M --machine -H --host --path-property --socket-property --service-type",
			"--user --system --scope -r --remain-after-exit --send-sighup -t --pty -T --pty-late -P --pipe -q --quiet --wait -G --collect --same-dir --no-block --no-ask-password -S --shell",
			"-h --help --version"), interactive: true},
		"run0": {opts: opts("-u --user -g --group -D --chdir --description --slice --setenv --unit -p --property --nice --machine --background",
			"--no-ask-password -i --empower --via-shell", "-h --help --version"), interactive: true},
		"cross-env":       {env: true},
		"cross-env-shell": {env: true, join: joinAlways},
		"dotenv":          {opts: opts("-e -v", "--debug -o --override --quiet --no-expand", "-p --help")},
		"env-cmd": {opts: opts("-f --file -r --rc-file -e --environments", "--fallback --no-override --silent --verbose -x --expand-envs --use-shell", "-h --help"),
			join: joinWithFlag, joinFlag: "--use-shell"},
		"nodemon": {opts: opts("-x --exec -w --watch -e --ext -i --ignore -d --delay --signal --config", "-q --quiet -V --verbose --legacy-watch -L --spawn -I --no-stdin", "-h --help -v --version"),
			scriptOpts: []string{"-x", "--exec"}},
		"watchexec": {opts: opts("-w --watch -W --watch-non-recursive -e --exts -f --filter -F --filter-file -i --ignore --ignore-file -d --debounce --delay-run "+
			"--poll -s --signal --stop-signal --stop-timeout --shell -E --env --workdir --project-origin --on-busy-update --emit-events-to --wrap-process --color --log-file",
			"-c --clear -r --restart -p --postpone -N --notify -n --no-vcs-ignore --no-project-ignore --no-global-ignore --no-default-ignore --no-discover-ignore "+
				"--ignore-nothing --only-emit-events -1 --print-events -q --quiet --bell --no-meta", "-h --help -V --version --manual --completions"),
			join: joinAlways},
	}
	for _, n := range []string{"linux32", "linux64", "i386", "x86_64", "uname26"} {
		ws[n] = setarch
	}
	return ws
}

func newRunners() map[string]runner {
	return map[string]runner{
		"parallel":     parallelRunner,
		"concurrently": concurrentlyRunner,
		"hyperfine":    hyperfineRunner,
		"tmux":         tmuxRunner,
		"ssh":          sshRunner,
		"runuser":      runuserRunner,
		"gdb":          gdbRunner,
		"lldb":         lldbRunner,
		"capsh":        capshRunner,
		"screen": func(args []word, _ input) unwrapped {
			// -ls, -list and -wipe list sessions; cordon's option reader would
			// take them for clusters of one-letter options.
			for _, a := range args {
				if a.is("-ls") || a.is("-list") || a.is("-wipe") || a.is("-version") {
					return unwrapped{}
				}
			}
			return tables().screenSpec.unwrap("screen", args)
		},
		"at":    atRunner,
		"batch": atRunner,
		"setarch": func(args []word, _ input) unwrapped {
			// setarch ARCH [options] [program [arguments]]: options after ARCH.
			if len(args) == 0 {
				return unwrapped{}
			}
			return tables().wrappers["linux32"].unwrap("setarch", args[1:])
		},
	}
}

// templateCode turns a command line with placeholders that a runner fills
// in ({}, {1}, {name}) into shell code in which each placeholder is a value
// only known at run time. It reports whether there was a placeholder, and
// ok=false when one stands inside quotes or after a backslash, where cordon
// cannot put a stand-in.
func templateCode(code string, extra []string) (out string, placeholders, ok bool) {
	const standIn = `"$cordon_arg"`
	out = tables().placeholder.ReplaceAllLiteralString(code, standIn)
	for _, e := range extra {
		if e != "" {
			out = strings.ReplaceAll(out, e, standIn)
		}
	}
	if out == code {
		return code, false, true
	}
	return out, true, !strings.ContainsAny(code, `'"\`)
}

// addTemplate records a command line a runner completes with its arguments:
// in place of its placeholders, or appended when it has none.
func (u *unwrapped) addTemplate(code word, extra []string, runner string) {
	if !code.exact() {
		u.addScript(code, runner)
		return
	}
	s, placeholders, ok := templateCode(code.value, extra)
	switch {
	case !ok:
		u.findings = append(u.findings, dynamicCode(runner+" puts its arguments inside quotes in "+code.text+", which cordon cannot follow"))
	case placeholders:
		u.scripts = append(u.scripts, s)
	default:
		u.scripts = append(u.scripts, s+" $cordon_args")
	}
}

// parallelRunner reads GNU parallel (and moreutils parallel):
//
//	parallel [options] [command] [::: args | :::: files]...
//
// The command runs through a shell with the arguments in place of {} (or
// appended). Without a command, the arguments are the command lines.
func parallelRunner(args []word, stdin input) unwrapped {
	var u unwrapped
	spec := tables().parallelOptions
	starts, noRun, ok := spec.operandStarts(args, 0)
	if !ok {
		return unwrapped{findings: []finding{dynamicCode("cordon cannot tell which command parallel runs from its options")}}
	}
	replace := optionValues(args, "-I", "--replace", "")
	var extra []string
	for _, r := range replace {
		if !r.exact() {
			return unwrapped{findings: []finding{dynamicCode("parallel -I " + r.text + " sets a replacement string only known at run time")}}
		}
		extra = append(extra, r.value)
	}
	fromFile := len(optionValues(args, "-a", "--arg-file", "")) > 0
	for _, start := range starts {
		rest := args[start:]
		var cmd, literal []word
		sep := false
		for i, w := range rest {
			if w.is(":::") || w.is(":::+") || w.is("::::") || w.is("::::+") {
				sep = true
				cmd = rest[:i]
				for j := i; j < len(rest); j++ {
					switch {
					case rest[j].is(":::") || rest[j].is(":::+"):
						for k := j + 1; k < len(rest) && !strings.HasPrefix(rest[k].value, ":::"); k++ {
							literal = append(literal, rest[k])
						}
					case rest[j].is("::::") || rest[j].is("::::+"):
						fromFile = true
					}
				}
				break
			}
		}
		if !sep {
			cmd = rest
			// moreutils: parallel [options] [command] -- args
			for i, w := range rest {
				if w.is("--") {
					if i == 0 {
						literal = rest[1:]
					} else {
						u.addTemplate(joinScript(rest[:i]), extra, "parallel")
					}
					break
				}
			}
		}
		if len(cmd) > 0 {
			u.addTemplate(joinScript(cmd), extra, "parallel")
			continue
		}
		if noRun && len(literal) == 0 {
			continue
		}
		for _, l := range literal {
			u.addScript(l, "parallel")
		}
		if sep || len(literal) > 0 || fromFile {
			continue
		}
		u.add(commandsFromInput("parallel", stdin))
	}
	return u
}

// commandsFromInput judges a program that reads command lines from its
// standard input: literal text is read, a file is like a script file, and
// anything else (a pipe) is code cordon cannot see.
func commandsFromInput(runner string, stdin input) unwrapped {
	switch {
	case stdin.text != nil:
		return unwrapped{scripts: []string{*stdin.text}}
	case stdin.file != nil:
		return unwrapped{}
	}
	return unwrapped{findings: []finding{{rule: ruleScriptFile, opaque: true,
		detail: runner + " runs the command lines it reads from standard input"}}}
}

// concurrentlyRunner: concurrently [options] 'cmd' 'cmd'..., each run by a
// shell; "npm:build" is "npm run build".
func concurrentlyRunner(args []word, _ input) unwrapped {
	var u unwrapped
	_, operands, noRun := tables().concurrentlyOptions.scanArgs(args)
	if noRun {
		return u
	}
	for _, op := range operands {
		if op.exact() {
			for _, pm := range []string{"npm", "yarn", "pnpm", "bun"} {
				if s, ok := strings.CutPrefix(op.value, pm+":"); ok {
					op = exactWord(pm + " run " + s)
				}
			}
		}
		u.addTemplate(op, nil, "concurrently")
	}
	return u
}

// hyperfineRunner: hyperfine [options] 'cmd'...; every command and the
// --prepare, --setup, --cleanup and --conclude commands run by a shell,
// with {name} parameters filled in.
func hyperfineRunner(args []word, _ input) unwrapped {
	var u unwrapped
	vals, operands, noRun := tables().hyperfineOptions.scanArgs(args)
	if noRun {
		return u
	}
	for _, o := range []string{"-p", "--prepare", "-s", "--setup", "-c", "--cleanup", "--conclude"} {
		operands = append(operands, vals[o]...)
	}
	for _, o := range []string{"-S", "--shell"} {
		for _, sh := range vals[o] {
			if !sh.is("none") && !(sh.exact() && tables().posixShells[programName(sh.value)]) {
				u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "hyperfine --shell " + sh.text + " runs the commands with another program"})
			}
		}
	}
	for _, op := range operands {
		s, placeholders, ok := "", false, true
		if op.exact() {
			s, placeholders, ok = templateCode(op.value, nil)
		}
		switch {
		case !op.exact():
			u.addScript(op, "hyperfine")
		case !ok:
			u.findings = append(u.findings, dynamicCode("hyperfine puts parameters inside quotes in "+op.text+", which cordon cannot follow"))
		case placeholders:
			u.scripts = append(u.scripts, s)
		default:
			u.scripts = append(u.scripts, op.value)
		}
	}
	return u
}

// tmuxRunner reads tmux's commands (separated by ";"): those that start a
// shell command (new-session, new-window, split-window, respawn-*,
// run-shell, if-shell, pipe-pane, display-popup) run it; send-keys types
// into a shell cordon cannot see.
func tmuxRunner(args []word, _ input) unwrapped {
	var u unwrapped
	tab := tables()
	u.add(unwrapCode(args, tab.tmuxOptions, "-c", "tmux -c"))
	starts, _, ok := tab.tmuxOptions.operandStarts(args, 0)
	if !ok || len(starts) != 1 {
		return unwrapped{findings: []finding{dynamicCode("cordon cannot tell which commands tmux runs from its options")}}
	}
	rest := args[starts[0]:]
	for len(rest) > 0 {
		end := len(rest)
		for i, w := range rest {
			if w.is(";") || w.exact() && strings.HasSuffix(w.value, ";") && !strings.HasSuffix(w.value, `\;`) {
				end = i
				break
			}
		}
		cmd := rest[:end]
		if end < len(rest) {
			if last := rest[end]; !last.is(";") {
				cmd = append(append([]word(nil), cmd...), exactWord(strings.TrimSuffix(last.value, ";")))
			}
			rest = rest[end+1:]
		} else {
			rest = nil
		}
		if len(cmd) == 0 {
			continue
		}
		if !cmd[0].exact() {
			u.findings = append(u.findings, dynamicCode("the tmux command "+cmd[0].text+" is only known at run time"))
			continue
		}
		switch cmd[0].value {
		case "new-session", "new", "new-window", "neww", "split-window", "splitw", "respawn-pane", "respawnp",
			"respawn-window", "respawnw", "run-shell", "run", "if-shell", "if", "pipe-pane", "pipep", "display-popup", "popup":
			st, _, ok := tab.tmuxCommandOptions.operandStarts(cmd[1:], 0)
			if !ok {
				u.findings = append(u.findings, dynamicCode("cordon cannot tell which shell command tmux "+cmd[0].value+" runs"))
				continue
			}
			for _, s := range st {
				if 1+s < len(cmd) {
					u.addScript(joinScript(cmd[1+s:]), "tmux "+cmd[0].value)
				}
			}
		case "send-keys", "send", "send-prefix":
			u.findings = append(u.findings, dynamicCode("tmux "+cmd[0].value+" types into a shell whose commands cordon cannot see"))
		}
	}
	return u
}

// unwrapCode returns the values of a program's option that holds shell
// code, read before the program's first operand.
func unwrapCode(args []word, spec optSpec, opt, runner string) unwrapped {
	var u unwrapped
	starts, _, _ := spec.operandStarts(args, 0)
	end := len(args)
	if len(starts) > 0 {
		end = starts[len(starts)-1]
	}
	for _, c := range optionValues(args[:end], opt, "", "") {
		u.addScript(c, runner)
	}
	return u
}

// sshRunner: ssh [options] destination [command...]. The command runs on
// the remote host, outside cordon's sandbox, so it is judged like local
// code; ProxyCommand, LocalCommand and KnownHostsCommand run locally.
func sshRunner(args []word, _ input) unwrapped {
	var u unwrapped
	spec := tables().sshOptions
	starts, noRun, ok := spec.operandStarts(args, 0)
	if !ok {
		return unwrapped{findings: []finding{dynamicCode("cordon cannot tell which command ssh runs from its options")}}
	}
	u.add(sshConfigCode(args, "ssh"))
	if noRun {
		return u
	}
	for _, s := range starts {
		if s+1 >= len(args) {
			continue
		}
		// Options may follow the destination: ssh host -t CMD.
		rest := args[s+1:]
		more, noRun, ok := spec.operandStarts(rest, 0)
		if !ok {
			u.findings = append(u.findings, dynamicCode("cordon cannot tell which command ssh runs from its options"))
			continue
		}
		u.add(sshConfigCode(rest, "ssh"))
		for _, m := range more {
			if m < len(rest) && !noRun {
				u.addScript(joinScript(rest[m:]), "ssh")
			}
		}
	}
	return u
}

// sshConfigCode judges -o Key=Value options of ssh, scp and sftp whose
// value is a command.
func sshConfigCode(args []word, prog string) unwrapped {
	var u unwrapped
	for _, kv := range optionValues(args, "-o", "", "46ABCGKMNTVXYafgknqstvxy") {
		if !kv.exact() {
			u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: prog + " -o " + kv.text + " sets an option only known at run time"})
			continue
		}
		key, value := kv.value, ""
		if i := strings.IndexAny(kv.value, "= \t"); i >= 0 {
			key, value = kv.value[:i], strings.TrimLeft(kv.value[i+1:], "= \t")
		}
		switch strings.ToLower(key) {
		case "proxycommand", "localcommand", "knownhostscommand", "remotecommand":
			if !strings.EqualFold(value, "none") {
				u.scripts = append(u.scripts, value)
			}
		}
	}
	return u
}

// runuserRunner: runuser -u USER [--] COMMAND..., or, like su,
// runuser [-l] USER [-c CODE].
func runuserRunner(args []word, stdin input) unwrapped {
	if len(optionValues(args, "-u", "--user", "lmpPf")) > 0 {
		spec := &wrapperSpec{opts: tables().runuserSpec.opts}
		return spec.unwrap("runuser", args)
	}
	return tables().runuserSpec.unwrap("runuser", args)
}

// gdbRunner: gdb --args PROGRAM ARGS runs the program when told to (-ex
// run); gdb's "shell" and "!" commands run shell code.
func gdbRunner(args []word, _ input) unwrapped {
	var u unwrapped
	for i, a := range args {
		if a.is("--args") {
			if i+1 < len(args) {
				u.commands = append(u.commands, args[i+1:])
			}
			args = args[:i]
			break
		}
	}
	for _, o := range []string{"-ex", "--ex", "-eval-command", "--eval-command", "-iex", "--iex", "-init-eval-command", "--init-eval-command"} {
		for _, c := range optionValues(args, "", o, "") {
			u.add(debuggerShell(c, "gdb"))
		}
	}
	return u
}

// lldbRunner: lldb [options] [PROGRAM] [-- ARGS]; its "platform shell"
// command runs shell code.
func lldbRunner(args []word, _ input) unwrapped {
	var u unwrapped
	for _, o := range []string{"-o", "--one-line", "-O", "--one-line-before-file", "-k", "--one-line-on-crash"} {
		var vals []word
		if strings.HasPrefix(o, "--") {
			vals = optionValues(args, "", o, "")
		} else {
			vals = optionValues(args, o, "", "")
		}
		for _, c := range vals {
			u.add(debuggerShell(c, "lldb"))
		}
	}
	for i, a := range args {
		if a.is("--") {
			prog := args[i+1:]
			if i > 0 && args[i-1].exact() && !strings.HasPrefix(args[i-1].value, "-") {
				prog = append([]word{args[i-1]}, prog...)
			}
			if len(prog) > 0 {
				u.commands = append(u.commands, prog)
			}
			break
		}
	}
	return u
}

func debuggerShell(c word, dbg string) unwrapped {
	var u unwrapped
	if !c.exact() {
		u.findings = append(u.findings, dynamicCode(dbg+" runs a command only known at run time: "+c.text))
		return u
	}
	v := strings.TrimSpace(c.value)
	for _, p := range []string{"platform shell ", "shell ", "!", "pipe "} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			u.scripts = append(u.scripts, rest)
			break
		}
	}
	return u
}

// capshRunner: capsh [options] -- ARGS runs bash (or --shell=PROGRAM) with
// ARGS, so "capsh -- -c CODE" runs CODE.
func capshRunner(args []word, stdin input) unwrapped {
	shell := exactWord("bash")
	for i, a := range args {
		if a.exact() && strings.HasPrefix(a.value, "--shell=") {
			shell = exactWord(strings.TrimPrefix(a.value, "--shell="))
		}
		if a.is("--") || a.is("==") {
			rest := args[i+1:]
			if a.is("==") {
				return unwrapped{commands: [][]word{append([]word{exactWord("capsh")}, rest...)}}
			}
			return unwrapped{commands: [][]word{append([]word{shell}, rest...)}}
		}
	}
	return unwrapped{}
}

// atRunner: at [options] TIME and batch read shell commands from standard
// input (or -f FILE) and run them later.
func atRunner(args []word, stdin input) unwrapped {
	vals, _, noRun := tables().atOptions.scanArgs(args)
	for _, a := range args {
		if a.is("-l") || a.is("-r") || a.is("-d") || a.is("-c") || a.is("-V") {
			noRun = true
		}
	}
	if noRun || len(vals["-f"]) > 0 {
		return unwrapped{}
	}
	return commandsFromInput("at", stdin)
}

// runnerTables are the option specs of the runners.
type runnerTables struct {
	runners                                           map[string]runner
	placeholder                                       *regexp.Regexp
	parallelOptions, concurrentlyOptions              optSpec
	hyperfineOptions, tmuxOptions, tmuxCommandOptions optSpec
	sshOptions                                        optSpec
	runuserSpec, screenSpec                           *wrapperSpec
	atOptions                                         optSpec
}

func newRunnerTables() runnerTables {
	return runnerTables{
		runners:     newRunners(),
		placeholder: regexp.MustCompile(`\{=.*?=\}|\{[^{}\s]*\}`),
		parallelOptions: opts("-j --jobs -P --max-procs -S --sshlogin --slf --sshloginfile -a --arg-file -d --delimiter -E --eof -I --replace -N -n --max-args "+
			"-L --max-lines -l -s --max-chars --colsep -C --tmpdir --results --res --joblog --tag-string --tagstring --timeout --delay --retries --load --memfree "+
			"--halt --halt-on-error --basefile --bf --workdir --wd --env --transfer-file --tf --return --trc --sshdelay --rpl --er --extensionreplace --bnr "+
			"--basenamereplace --dnr --dirnamereplace --bner --basenameextensionreplace --seqreplace --slotreplace --block --block-size --recstart --recend "+
			"--header --limit --template --ssh --termseq --nice --profile -J",
			"-0 --null -k --keep-order -q --quote -v --verbose -t -u --ungroup --group --line-buffer --lb --tag -r --no-run-if-empty --dry-run --dryrun "+
				"--will-cite --bar --progress --eta --no-notice --xargs -X -m --pipe --spreadstdin --pipepart --nonall --onall --shuf -g --fg --bg --files "+
				"--cat --fifo --plus --compress --noswap -i",
			"--version --help -h -V --number-of-cpus --number-of-cores --number-of-threads --number-of-sockets --minversion --max-line-length-allowed --bibtex --citation --record-env"),
		concurrentlyOptions: opts("-n --names --name-separator -s --success -c --prefix-colors -p --prefix -l --prefix-length -t --timestamp-format "+
			"--restart-tries --restart-after --default-input-target -m --max-processes --pad-prefix",
			"-k --kill-others --kill-others-on-fail -r --raw --no-color --hide -g --group -P --passthrough-arguments -i --handle-input --timings",
			"-h --help -v -V --version"),
		hyperfineOptions: opts("-w --warmup -m --min-runs -M --max-runs -r --runs -p --prepare -c --cleanup -s --setup --conclude -P --parameter-scan "+
			"-D --parameter-step-size -L --parameter-list --style -S --shell -u --time-unit --export-asciidoc --export-csv --export-json --export-markdown "+
			"--export-orgmode -n --command-name --output --input --sort --reference",
			"-N -i --ignore-failure --show-output", "-h --help -V --version"),
		tmuxOptions:        opts("-c -f -L -S -T", "-2 -C -D -l -N -u -v", "-V"),
		tmuxCommandOptions: opts("-c -e -F -n -s -t -x -y -f -l -p -w -T", "-A -b -d -D -E -h -k -P -v -X -Z -I -C -o -B", ""),
		sshOptions: opts("-B -b -c -D -E -e -F -I -i -J -L -l -m -O -o -p -Q -R -S -W -w",
			"-4 -6 -A -a -C -f -g -K -k -M -N -n -q -s -T -t -v -X -x -Y -y", "-V -G"),
		atOptions: opts("-q -f -t", "-m -M -v", ""),
		screenSpec: &wrapperSpec{opts: opts("-S -c -e -h -p -T -t -s", "-d -m -D -r -R -x -A -a -U -q -l -O -i -f", "-v --help"),
			interactive: true, opaqueOpts: []string{"-X"}, loadOpts: []string{"-s"}},
		runuserSpec: &wrapperSpec{opts: opts("-u --user -g --group -G --supp-group -s --shell -c --command -w --whitelist-environment",
			"-l --login -m -p --preserve-environment -P --pty -f", "-h --help -V --version"),
			scriptOpts: []string{"-c", "--command"}, shortFlags: "lmpPf", operands: 1, interactive: true},
	}
}
