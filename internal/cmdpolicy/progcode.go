package cmdpolicy

import (
	"strings"
)

// Options of ordinary programs whose value is a command the program runs:
// git rebase --exec, tar --to-command, rsync -e, go test -exec. The program
// itself stays a program the rules and the default decide; what it runs is
// judged as parts of its own.

// programCode returns what a program runs through such options. argv is the
// command as written, rs its readings without global options.
func programCode(name string, argv []word, rs [][]word) unwrapped {
	var u unwrapped
	args := argv[1:]
	switch name {
	case "git":
		for _, r := range append([][]word{argv}, rs...) {
			u.add(gitSubcommandCode(r))
		}
	case "tar", "gtar", "bsdtar":
		u.add(tarCode(args))
	case "rsync":
		// rsync starts the -e program as "PROGRAM HOST rsync --server ...",
		// and --rsync-path on the remote host as "PATH --server ...".
		for _, c := range optionValues(args, "-e", "--rsh", "vqcarlpogDtSzhnuWbRxPiCHAXEUNOJmIyk08") {
			u.addScript(appendArgs(c, "host rsync --server ."), "rsync --rsh")
		}
		for _, c := range optionValues(args, "", "--rsync-path", "") {
			u.addScript(appendArgs(c, "--server ."), "rsync --rsync-path")
		}
	case "scp", "sftp":
		for _, p := range optionValues(args, "-S", "", "346ABCOTpqrRv") {
			u.commands = append(u.commands, []word{p, spreadWord("<ssh arguments>")})
		}
		u.add(sshConfigCode(args, name))
	case "man":
		for _, c := range optionValues(args, "-P", "--pager", "") {
			u.addScript(c, "man --pager")
		}
		for _, a := range args {
			if a.exact() && (strings.HasPrefix(a.value, "--html=") || strings.HasPrefix(a.value, "-H") && len(a.value) > 2) {
				u.scripts = append(u.scripts, strings.TrimPrefix(strings.TrimPrefix(a.value, "--html="), "-H"))
			}
		}
	case "rg":
		for _, p := range optionValues(args, "", "--pre", "") {
			u.commands = append(u.commands, []word{p, spreadWord("<file>")})
		}
	case "go":
		// go build|test|run|vet ... -exec CMD, -toolexec CMD, -vettool PROG.
		// -exec runs "CMD /tmp/go-build.../pkg.test ARGS"; -toolexec runs
		// "CMD /path/to/tool ARGS".
		for _, o := range []string{"-exec", "--exec", "-toolexec", "--toolexec"} {
			for _, c := range optionValues(args, "", o, "") {
				u.addScript(appendArgs(c, "/tmp/go-build/pkg.test"), "go "+o)
			}
		}
		for _, o := range []string{"-vettool", "--vettool"} {
			for _, p := range optionValues(args, "", o, "") {
				u.commands = append(u.commands, []word{p, spreadWord("<arguments>")})
			}
		}
	case "npm", "pnpm", "yarn", "bun":
		// npm reads its configuration from any argument, not only before
		// the subcommand.
		for _, o := range []string{"--script-shell", "--node-options", "--shell"} {
			if len(optionValues(args, "", o, "")) > 0 {
				u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: name + " " + o + " changes the program that runs scripts"})
			}
		}
		// "pnpm prisma migrate deploy": pnpm, yarn and bun run a package's
		// program when the first word is none of their commands.
		if known := tables().packageManagerCommands[name]; known != nil {
			for _, r := range append([][]word{argv}, rs...) {
				if len(r) > 1 && r[1].exact() && !known[r[1].value] && !strings.HasPrefix(r[1].value, "-") {
					u.commands = append(u.commands, r[1:])
					break
				}
			}
		}
	case "make", "gmake", "bmake", "remake":
		// NAME=VALUE overrides a make variable: SHELL runs every recipe,
		// CC and friends run in recipes.
		for _, a := range args {
			if a.is("--") {
				break
			}
			if n, v, ok := splitAssignment(a); ok {
				u.add(envAssignment(n, v))
			}
		}
	}
	return u
}

// appendArgs returns code with the arguments the program adds appended
// (the host for rsync -e, the test binary for go test -exec), written as
// typical values: what matters to the rules is what the option says.
func appendArgs(code word, args string) word {
	if !code.exact() {
		return code
	}
	return exactWord(code.value + " " + args)
}

// gitSubcommandCode reads one reading of a git command line ("git
// SUBCOMMAND ...", global options removed) for options that run commands.
func gitSubcommandCode(r []word) unwrapped {
	var u unwrapped
	if len(r) < 2 || !r[1].exact() {
		return u
	}
	args := r[2:]
	switch sub := r[1].value; sub {
	case "submodule":
		// git submodule [--quiet] foreach [--recursive] COMMAND...
		for i, a := range args {
			if a.is("foreach") {
				rest := args[i+1:]
				for len(rest) > 0 && (rest[0].is("--recursive") || rest[0].is("--")) {
					rest = rest[1:]
				}
				if len(rest) > 0 {
					u.addScript(joinScript(rest), "git submodule foreach")
				}
				break
			}
			if !a.exact() || !strings.HasPrefix(a.value, "-") {
				break
			}
		}
	case "rebase":
		for _, c := range optionValues(args, "-x", "--exec", "ikmnqrv") {
			u.addScript(c, "git rebase --exec")
		}
	case "bisect":
		if len(args) > 1 && args[0].is("run") {
			u.commands = append(u.commands, args[1:])
		}
	case "difftool", "mergetool":
		for _, c := range optionValues(args, "-x", "--extcmd", "dgy") {
			if c.exact() {
				c = exactWord(c.value + ` "$LOCAL" "$REMOTE"`)
			}
			u.addScript(c, "git "+sub+" --extcmd")
		}
	case "filter-branch":
		for _, o := range []string{"--setup", "--env-filter", "--tree-filter", "--index-filter", "--parent-filter",
			"--msg-filter", "--commit-filter", "--tag-name-filter"} {
			for _, c := range optionValues(args, "", o, "") {
				u.addScript(c, "git filter-branch "+o)
			}
		}
	case "grep":
		// -O[PAGER] / --open-files-in-pager[=PAGER]: the value is attached.
		for _, a := range args {
			if !a.exact() {
				continue
			}
			if a.value == "--" {
				break
			}
			if p, ok := strings.CutPrefix(a.value, "--open-files-in-pager="); ok {
				u.addScript(appendArgs(exactWord(p), "file.txt"), "git grep --open-files-in-pager")
			} else if strings.HasPrefix(a.value, "-O") && len(a.value) > 2 && !strings.HasPrefix(a.value, "--") {
				u.addScript(appendArgs(exactWord(a.value[2:]), "file.txt"), "git grep -O")
			}
		}
	case "fetch", "pull", "clone", "ls-remote", "archive", "push", "send-pack", "fetch-pack", "remote":
		// The program that runs on the other end; for a local or ssh
		// remote it is started through a shell.
		opts := []string{"--upload-pack", "--receive-pack", "--exec"}
		for _, o := range opts {
			for _, c := range optionValues(args, "", o, "") {
				u.addScript(appendArgs(c, "'repo.git'"), "git "+sub+" "+o)
			}
		}
		if sub == "clone" || sub == "ls-remote" {
			for _, c := range optionValues(args, "-u", "", "lqsvn") {
				u.addScript(appendArgs(c, "'repo.git'"), "git "+sub+" -u")
			}
		}
	case "send-email":
		for _, o := range []string{"--to-cmd", "--cc-cmd", "--header-cmd", "--sendmail-cmd", "--smtp-server"} {
			for _, c := range optionValues(args, "", o, "") {
				if o == "--smtp-server" && !(c.exact() && strings.HasPrefix(c.value, "/")) {
					continue // a host name, not a program
				}
				u.addScript(appendArgs(c, "patch.txt"), "git send-email "+o)
			}
		}
	}
	return u
}

// tarCode reads tar's options that run commands: --to-command,
// -I/--use-compress-program, --checkpoint-action=exec=, -F/--info-script,
// --new-volume-script, --rsh-command, --rmt-command. An old-style first
// argument ("xIf PROG FILE") takes the values of its letters from the
// words that follow, in order.
func tarCode(args []word) unwrapped {
	var u unwrapped
	args = tarOldStyle(args)
	const flags = "AcdrtuxzjJaZvwkmOpPsSWBiRhlGMgn"
	add := func(c word, o string, withArgs bool) {
		if withArgs {
			c = appendArgs(c, "-d")
		}
		u.addScript(c, "tar "+o)
	}
	for _, c := range optionValues(args, "-I", "--use-compress-program", flags) {
		add(c, "--use-compress-program", true)
	}
	for _, c := range optionValues(args, "-F", "--info-script", flags) {
		add(c, "--info-script", false)
	}
	for _, o := range []string{"--to-command", "--new-volume-script", "--rsh-command", "--rmt-command"} {
		for _, c := range optionValues(args, "", o, "") {
			add(c, o, o == "--rsh-command")
		}
	}
	for _, c := range optionValues(args, "", "--checkpoint-action", "") {
		if !c.exact() {
			u.addScript(c, "tar --checkpoint-action")
			continue
		}
		for _, prefix := range []string{"exec=", "exec:"} {
			if code, ok := strings.CutPrefix(c.value, prefix); ok {
				u.scripts = append(u.scripts, code)
			}
		}
	}
	return u
}

// tarOldStyle rewrites tar's old-style first argument ("cvzf", "xIf") into
// dash options with their values.
func tarOldStyle(args []word) []word {
	if len(args) == 0 || !args[0].exact() || args[0].value == "" || strings.HasPrefix(args[0].value, "-") {
		return args
	}
	const valueLetters = "bCfFgHIKLNTVX"
	first := args[0].value
	for _, c := range first {
		if c < 'A' || c > 'z' || c > 'Z' && c < 'a' {
			return args // not a bundle of letters: an operand
		}
	}
	out := []word{}
	next := 1
	for _, c := range first {
		out = append(out, exactWord("-"+string(c)))
		if strings.ContainsRune(valueLetters, c) && next < len(args) {
			out = append(out, args[next])
			next++
		}
	}
	return append(out, args[next:]...)
}

// newPackageManagerCommands lists the commands of pnpm, yarn and bun; any
// other first word names a script or a package's program.
func newPackageManagerCommands() map[string]map[string]bool {
	return map[string]map[string]bool{
		"pnpm": optionSet(`add install i update up upgrade remove rm uninstall un link ln unlink import rebuild rb prune fetch
			install-test it patch patch-commit patch-remove audit list ls ll outdated why licenses run run-script exec dlx create
			test t tst start stop restart publish pack env setup store server init deploy doctor config c get set bin root
			recursive multi m approve-builds ignored-builds self-update cat-file cat-index find-hash catalog help sbom`),
		"yarn": optionSet(`add audit autoclean bin cache check config create dedupe dlx exec explain generate-lock-entry global
			help import info init install licenses link list login logout node npm outdated owner pack patch patch-commit plugin
			policies publish rebuild remove run search set stage team test unlink unplug up upgrade upgrade-interactive version
			versions why workspace workspaces constraints`),
		"bun": optionSet(`run test x repl exec init create c install i add a remove rm update outdated link unlink pm build
			upgrade publish patch patch-commit audit info why completions discord help feedback`),
	}
}
