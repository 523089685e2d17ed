package cmdpolicy

import (
	"fmt"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Limits that keep the analysis of hostile input bounded. Reaching one makes
// the rest of the input count as code cordon cannot see.
const (
	maxDepth       = 8       // nested shells: bash -c 'sh -c "..."'
	maxScriptBytes = 1 << 20 // one command line
	maxParsedBytes = 4 << 20 // all shell code parsed for one check, nested code included
	maxParts       = 256
)

// analysis splits one command line into parts and judges each.
type analysis struct {
	p      *Policy
	parts  []Part
	parsed int // bytes of shell code parsed so far
	code   codeText
}

// scope is what the analysis knows inside one shell: the functions the
// script defines, and how deeply it is nested.
type scope struct {
	funcs map[string]bool
	depth int
}

// partKind says whether the default decision applies to a part.
type partKind uint8

const (
	kindProgram partKind = iota // a program: rules, else the default
	kindWrapper                 // runs the command that follows: rules only
	kindBuiltin                 // a shell built-in that runs no program: rules only
	kindQuiet                   // listed only if a rule applies (redirections, assignments)
)

func (a *analysis) add(part Part) {
	switch {
	case len(a.parts) < maxParts-1:
		a.parts = append(a.parts, part)
	case len(a.parts) == maxParts-1:
		a.parts = append(a.parts, a.p.judgeOpaque(part.Command, finding{rule: ruleUnparsable, opaque: true,
			detail: fmt.Sprintf("the command line has more than %d parts; cordon stopped reading", maxParts)}))
	}
}

func (a *analysis) full() bool { return len(a.parts) >= maxParts }

// script analyzes shell code.
func (a *analysis) script(src string, depth int) {
	if a.full() {
		return
	}
	switch {
	case depth > maxDepth:
		a.add(a.p.judgeOpaque(src, finding{rule: ruleUnparsable, opaque: true,
			detail: fmt.Sprintf("shell code nested more than %d levels deep", maxDepth)}))
		return
	case len(src) > maxScriptBytes:
		a.add(a.p.judgeOpaque(src, finding{rule: ruleUnparsable, opaque: true,
			detail: fmt.Sprintf("the command line is longer than %d bytes", maxScriptBytes)}))
		return
	case a.parsed+len(src) > maxParsedBytes:
		a.add(a.p.judgeOpaque(src, finding{rule: ruleUnparsable, opaque: true,
			detail: fmt.Sprintf("the command line expands to more than %d bytes of shell code", maxParsedBytes)}))
		return
	}
	a.parsed += len(src)
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		a.add(a.p.judgeOpaque(src, finding{rule: ruleUnparsable, opaque: true, detail: err.Error()}))
		return
	}
	a.file(f, depth)
}

func (a *analysis) file(f *syntax.File, depth int) {
	sc := &scope{funcs: map[string]bool{}, depth: depth}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok {
			if fd.Name != nil {
				sc.funcs[fd.Name.Value] = true
			}
			for _, l := range fd.Names {
				sc.funcs[l.Value] = true
			}
		}
		return true
	})
	a.hiddenSubscripts(f)
	for _, p := range a.code.scan(f) {
		a.add(a.p.judgeOpaque(p, dynamicCode(p+" expands the value as a prompt, which runs the command substitutions in it")))
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if a.full() {
			return false
		}
		switch n := n.(type) {
		case *syntax.Stmt:
			a.redirections(n)
			if call, ok := n.Cmd.(*syntax.CallExpr); ok {
				a.callExpr(call, n.Redirs, sc)
			}
		case *syntax.DeclClause:
			a.declClause(n, sc)
		}
		return true // commands inside words ($(...), <(...)) are Stmts too
	})
}

// finish judges what only the whole command line shows: text that bash
// could evaluate as code where cordon cannot see it (see codetext.go).
func (a *analysis) finish() {
	if a.code.source() && a.code.sink != "" {
		a.add(a.p.judgeOpaque(a.code.sink, dynamicCode(a.code.sink+
			" evaluates a value as arithmetic or as a variable name, which runs the command substitutions in its subscripts, and the text "+
			quoteForDisplay(a.code.example)+" on this command line could supply one")))
	}
}

// hiddenSubscripts: bash evaluates array subscripts inside arithmetic and in
// some built-ins (x='a[$(cmd)]'; (( x )), read, printf -v, unset, test -v,
// ${!x}), running the command in the text. A literal that could be used so
// is code cordon does not follow.
func (a *analysis) hiddenSubscripts(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		var text string
		switch n := n.(type) {
		case *syntax.SglQuoted:
			text = n.Value
		case *syntax.Lit:
			text = n.Value
		default:
			return true
		}
		if tables().subscriptCode.MatchString(text) {
			a.add(a.p.judgeOpaque(text, dynamicCode("the text "+quoteForDisplay(text)+
				" runs a command if bash evaluates it as an array subscript (arithmetic, read, printf -v, unset, ${!var})")))
		}
		return true
	})
}

// redirections judges "< FILE" as the pseudo-command "<": a file the shell
// opens for the command to read (a credential file, say).
func (a *analysis) redirections(st *syntax.Stmt) {
	for _, r := range st.Redirs {
		if r.Op != syntax.RdrIn && r.Op != syntax.RdrInOut {
			continue
		}
		for _, w := range convertWord(r.Word) {
			s := &subject{name: "<", argv: []word{exactWord("<"), w}, dotglob: a.code.dotglob}
			a.emit(s, "< "+w.text, unwrapped{}, kindQuiet, input{}, nil)
		}
	}
}

func (a *analysis) callExpr(call *syntax.CallExpr, redirs []*syntax.Redirect, sc *scope) {
	var pre unwrapped
	for _, as := range call.Assigns {
		pre.add(assignment(as))
	}
	var words []word
	for _, w := range call.Args {
		words = append(words, convertWord(w)...)
	}
	text := printNode(call)
	if len(words) == 0 { // assignments only: no program for rules to match
		a.emit(nil, text, pre, kindQuiet, input{}, sc)
		return
	}
	a.command(&command{words: words, stdin: stdinOf(redirs), text: text, inShell: true}, pre, sc)
}

// command is one simple command: its words, and what its standard input is
// if the command line says.
type command struct {
	words []word
	stdin input
	text  string
	// inShell: the shell runs it, so a built-in name (cd, echo, export) is the
	// built-in. A command a wrapper or exec starts is a program.
	inShell bool
}

// command judges a simple command and what it runs. pre holds what the
// assignments in front of it do.
func (a *analysis) command(c *command, pre unwrapped, sc *scope) {
	if a.full() {
		return
	}
	prog := c.words[0]
	u := pre
	if !prog.exact() {
		u.findings = append(u.findings, finding{rule: ruleDynamicCommand,
			detail: "the program " + prog.text + " is only known at run time"})
		a.emit(&subject{argv: c.words, stdin: c.stdin.text}, c.text, u, kindProgram, c.stdin, sc)
		return
	}
	name := programName(prog.value)
	// A relative path ("./git", ".venv/bin/pip") may be the program its file
	// is named after: what that program would run is judged too, and the
	// path itself stays a program the default decides.
	dispatch, relative := name, false
	if base := relativeBase(name); base != "" {
		dispatch, relative = base, true
	}
	if looksAlike(name) {
		u.findings = append(u.findings, finding{rule: ruleLookAlike, detail: fmt.Sprintf("program name %q", name)})
	}
	bare := !strings.ContainsRune(prog.value, '/')
	builtin := bare && c.inShell
	if sc != nil && sc.funcs[name] && bare {
		u.findings = append(u.findings, finding{rule: ruleShellFunction, detail: "calls " + name})
	}
	s := &subject{name: name, argv: c.words, stdin: c.stdin.text, dotglob: a.code.dotglob}
	args := c.words[1:]
	kind := kindWrapper
	stdin := c.stdin
	tab := tables()
	if bare {
		a.code.names(name, nameArgs(name, args))
	}
	switch {
	case bare && (name == "source" || name == "."):
		u.add(sourceBuiltin(name, args, c.stdin))
		kind = kindBuiltin
	case bare && tab.shellBuiltins[name] != nil:
		// Also when not run by a shell: exec'ing "eval" fails, so judging it
		// as eval is only stricter.
		u.add(tab.shellBuiltins[name](args))
		kind = kindBuiltin
	case builtin && tab.stateBuiltins[name]:
		kind = kindBuiltin
	case dispatch == "env":
		u.add(envWrapper(args))
	case builtin && (name == "command" || name == "builtin"):
		// They run the next word in the same shell: a built-in stays one.
		if name == "command" {
			u.add(commandWrapper(args))
		} else if len(args) > 0 {
			u.commands = append(u.commands, args)
		}
		u.inShell = true
	case dispatch == "command":
		u.add(commandWrapper(args))
	case tab.runners[dispatch] != nil:
		u.add(tab.runners[dispatch](args, c.stdin))
		stdin = input{}
	case tab.wrappers[dispatch] != nil:
		u.add(tab.wrappers[dispatch].unwrap(dispatch, args))
	case isDynamicLoader(dispatch):
		u.add(tab.wrappers["ld.so"].unwrap(dispatch, args))
	case dispatch == "busybox" || dispatch == "toybox":
		u.add(busyboxWrapper(args))
	case dispatch == "xargs":
		u.add(xargsWrapper(args))
		stdin = input{}
	case tab.posixShells[dispatch] || tab.otherShells[dispatch]:
		u.add(shellInvocation(dispatch, args, c.stdin))
	case dispatch == "nix-shell":
		u.add(nixCommand(dispatch, args))
	case tab.pkgRunners[dispatch] != nil:
		u.add(tab.pkgRunners[dispatch].unwrap(dispatch, args))
	case dispatch == "find":
		u.add(findExec(args))
		kind, stdin = kindProgram, input{}
	case dispatch == "fd" || dispatch == "fdfind":
		u.add(fdExec(args))
		kind, stdin = kindProgram, input{}
	default:
		kind = kindProgram
		rs, ru := readings(dispatch, c.words)
		s.readings = rs
		u.add(ru)
		u.add(programCode(dispatch, c.words, rs))
		// git's own programs (/usr/lib/git-core/git-push) are its subcommands.
		if sub, ok := strings.CutPrefix(dispatch, "git-"); ok && sub != "" {
			r := append([]word{{value: "git", text: prog.text}, exactWord(sub)}, c.words[1:]...)
			s.readings = append(s.readings, r)
			u.add(programCode("git", r, nil))
		}
		if sub, ok := subcommandWrapper(dispatch, c.words, rs); ok {
			u.add(sub)
			kind = kindWrapper
		}
	}
	if relative || u.program {
		kind = kindProgram
	}
	s.readings = append(s.readings, u.readings...)
	a.emit(s, c.text, u, kind, stdin, sc)
}

// subcommandWrapper finds "npm exec", "uv run", "nix develop -c" and the like
// in the command as written or in one of its readings.
func subcommandWrapper(name string, argv []word, rs [][]word) (unwrapped, bool) {
	tab := tables()
	for _, r := range append([][]word{argv}, rs...) {
		if len(r) < 2 || !r[1].exact() {
			continue
		}
		key := name + " " + r[1].value
		switch {
		case tab.pkgRunners[key] != nil:
			return tab.pkgRunners[key].unwrap(key, r[2:]), true
		case tab.projectRunners[key] != nil && key != "ip netns" && key != "ip vrf":
			return tab.projectRunners[key].unwrap(key, r[2:]), true
		case name == "nix" && (r[1].value == "develop" || r[1].value == "shell"):
			return nixCommand(r[1].value, r[2:]), true
		case key == "uv tool" && len(r) > 2 && r[2].is("run"):
			return tab.pkgRunners["uv tool run"].unwrap("uv tool run", r[3:]), true
		case (key == "ip netns" || key == "ip vrf") && len(r) > 2 && r[2].is("exec"):
			return tab.projectRunners[key].unwrap(key+" exec", r[3:]), true
		}
	}
	return unwrapped{}, false
}

// emit judges a command's own part, then the commands and code it runs.
func (a *analysis) emit(s *subject, text string, u unwrapped, kind partKind, stdin input, sc *scope) {
	if part, hit := a.p.judge(s, text, u.findings, kind); hit || kind != kindQuiet {
		a.add(part)
	}
	depth := 0
	var inner *scope
	if sc != nil {
		depth = sc.depth
		inner = sc
	}
	for _, cmd := range u.commands {
		if len(cmd) == 0 {
			continue
		}
		a.command(&command{words: cmd, stdin: stdin, text: joinWords(cmd), inShell: u.inShell}, unwrapped{}, inner)
	}
	for _, code := range u.scripts {
		a.script(code, depth+1)
	}
}

// assignment judges NAME=VALUE in front of a command or on its own.
// Assignments are neither split nor globbed, so the value is one word.
func assignment(as *syntax.Assign) unwrapped {
	if as.Name == nil || as.Naked {
		return unwrapped{}
	}
	v := exactWord("")
	switch {
	case as.Array != nil:
		v = unknownWord(printNode(as.Array))
	case as.Value != nil:
		v = buildWord(as.Value.Parts, printNode(as.Value))
		if v.fields != oneField {
			v = word{pattern: v.pattern, text: v.text}
		}
	}
	return envAssignment(as.Name.Value, v)
}

// declClause judges export, declare, typeset, local, readonly and nameref.
func (a *analysis) declClause(d *syntax.DeclClause, sc *scope) {
	var u unwrapped
	nameref := d.Variant.Value == "nameref"
	for _, as := range d.Args {
		if as.Naked && as.Name == nil && as.Value != nil {
			w := buildWord(as.Value.Parts, printNode(as.Value))
			switch {
			case w.exact() && strings.HasPrefix(w.value, "-"):
				nameref = nameref || strings.ContainsRune(w.value, 'n')
			case !w.exact():
				u.findings = append(u.findings, finding{rule: ruleLoadsCode,
					detail: d.Variant.Value + " " + w.text + " sets a variable whose name is only known at run time"})
			}
			continue
		}
		if as.Name == nil {
			continue
		}
		if nameref && as.Value != nil {
			if target := as.Value.Lit(); envEffect(target) != noCode || target == "" {
				u.findings = append(u.findings, finding{rule: ruleLoadsCode,
					detail: d.Variant.Value + " -n makes " + as.Name.Value + " another name for " + printNode(as.Value)})
			}
			continue
		}
		u.add(assignment(as))
	}
	a.emit(&subject{name: d.Variant.Value, argv: []word{exactWord(d.Variant.Value)}}, printNode(d), u, kindQuiet, input{}, sc)
}

// input is what the command line says a command's standard input is: text
// it gives literally, a file the shell opens, or neither (a pipe, or what
// the shell itself was given).
type input struct {
	text *string // a here-document or here-string with no expansions
	file *word   // < FILE
}

// stdinOf returns the standard input the redirections give.
func stdinOf(redirs []*syntax.Redirect) input {
	var in input
	for _, r := range redirs {
		if r.N != nil && r.N.Value != "0" {
			continue
		}
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			in = input{text: heredocText(r)}
		case syntax.WordHdoc:
			in = input{}
			if ws := convertWord(r.Word); len(ws) == 1 && ws[0].exact() {
				s := ws[0].value + "\n"
				in.text = &s
			}
		case syntax.RdrIn, syntax.RdrInOut:
			in = input{}
			if ws := convertWord(r.Word); len(ws) == 1 {
				in.file = &ws[0]
			}
		case syntax.DplIn:
			in = input{}
		}
	}
	return in
}

func heredocText(r *syntax.Redirect) *string {
	empty := ""
	if r.Hdoc == nil {
		return &empty
	}
	quoted := strings.ContainsAny(printNode(r.Word), `'"\`)
	var b strings.Builder
	for _, part := range r.Hdoc.Parts {
		lit, ok := part.(*syntax.Lit)
		if !ok {
			return nil // an expansion: only known at run time
		}
		if quoted {
			b.WriteString(lit.Value)
		} else {
			b.WriteString(unescapeHeredoc(lit.Value))
		}
	}
	s := b.String()
	return &s
}

// unescapeHeredoc removes the backslashes that are special in the body of a
// here-document with an unquoted delimiter.
func unescapeHeredoc(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\\\n", s[i+1]) >= 0 {
			if s[i+1] != '\n' {
				b.WriteByte(s[i+1])
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shellTables are what the analysis knows about shell built-ins.
type shellTables struct {
	// stateBuiltins are shell built-ins that run no program. The default
	// decision does not apply to them; rules still do.
	stateBuiltins map[string]bool
	// shellBuiltins need a closer look: they run shell code, or change what
	// later commands are.
	shellBuiltins map[string]func(args []word) unwrapped
	// subscriptCode finds text that runs a command if bash reads it as an
	// array subscript: "a[$(cmd)]" or "a[`cmd`]".
	subscriptCode *regexp.Regexp
	// codeEscape finds an escape that printf or echo -e may turn into "$"
	// or "`": \x24, \u0024, \044. number is a literal arithmetic number.
	codeEscape, number *regexp.Regexp
}

func newShellTables() shellTables {
	return shellTables{
		stateBuiltins: optionSet(`cd pushd popd dirs true false : test [ echo printf pwd wait exit return break continue
			shift umask ulimit getopts type times shopt unset disown suspend help logout let kill bg fg caller history`),
		shellBuiltins: newShellBuiltins(),
		subscriptCode: regexp.MustCompile("\\[[^\\]]*(\\$\\(|`)"),
		codeEscape:    regexp.MustCompile(`\\([xuU][0-9a-fA-F]|[0-7])`),
		number:        regexp.MustCompile(`^(0[xX][0-9a-fA-F]+|[0-9]+#[0-9a-zA-Z@_]+|[0-9]+)$`),
	}
}

func newShellBuiltins() map[string]func(args []word) unwrapped {
	return map[string]func(args []word) unwrapped{
		"eval": func(args []word) unwrapped {
			u := unwrapped{findings: []finding{{rule: ruleEval, detail: "eval " + joinWords(args)}}}
			if len(args) > 0 && args[0].is("--") { // eval takes no options but accepts "--"
				args = args[1:]
			}
			if len(args) > 0 {
				u.addScript(joinScript(args), "eval")
			}
			return u
		},
		"alias": func(args []word) unwrapped {
			var u unwrapped
			for _, a := range args {
				if !a.exact() {
					u.findings = append(u.findings, finding{rule: ruleAlias, opaque: true, detail: "alias " + a.text})
					continue
				}
				if _, value, ok := strings.Cut(a.value, "="); ok {
					u.findings = append(u.findings, finding{rule: ruleAlias, detail: "alias " + a.text})
					u.scripts = append(u.scripts, value)
				}
			}
			return u
		},
		"trap": func(args []word) unwrapped {
			// trap [-lpP] [--] [code] signal...: -l and -p only list; "-"
			// or a lone signal resets.
			var u unwrapped
			for len(args) > 0 && args[0].exact() && len(args[0].value) > 1 && args[0].value[0] == '-' {
				if args[0].value == "--" {
					args = args[1:]
					break
				}
				if strings.Trim(args[0].value[1:], "lpP") == "" {
					return u
				}
				break // not an option: bash reports an error; judge it as code
			}
			if len(args) < 2 || args[0].is("-") {
				return u
			}
			u.addScript(args[0], "trap")
			return u
		},
		"mapfile":   mapfileBuiltin,
		"readarray": mapfileBuiltin,
		"compgen":   completionBuiltin,
		"complete":  completionBuiltin,
		"bind": func(args []word) unwrapped {
			// bind -x KEYSEQ:CODE runs CODE when the key is pressed.
			for _, a := range args {
				if !a.exact() || strings.HasPrefix(a.value, "-") && !strings.HasPrefix(a.value, "--") && strings.ContainsRune(a.value, 'x') {
					return unwrapped{findings: []finding{dynamicCode("bind -x binds shell code to a key, in a form cordon does not read")}}
				}
			}
			return unwrapped{}
		},
		"jobs": func(args []word) unwrapped {
			// jobs -x CMD ARGS runs CMD.
			for i, a := range args {
				if !a.exact() || !strings.HasPrefix(a.value, "-") {
					break
				}
				if strings.ContainsRune(a.value, 'x') {
					if i+1 < len(args) {
						return unwrapped{commands: [][]word{args[i+1:]}}
					}
					break
				}
			}
			return unwrapped{}
		},
		"fc": func(args []word) unwrapped {
			// fc runs commands again from the history, or after an editor
			// changed them; only fc -l just lists.
			if len(args) > 0 && args[0].exact() && strings.HasPrefix(args[0].value, "-") && strings.ContainsRune(args[0].value, 'l') {
				return unwrapped{}
			}
			return unwrapped{findings: []finding{dynamicCode("fc runs commands from the shell's history, which cordon does not follow")}}
		},
		"set": func(args []word) unwrapped {
			// set -H (-o histexpand) makes "!!" run an earlier command again.
			for i, a := range args {
				if !a.exact() {
					return unwrapped{findings: []finding{dynamicCode("set " + a.text + " sets shell options only known at run time")}}
				}
				if a.value == "--" || !strings.HasPrefix(a.value, "-") {
					break
				}
				long := strings.HasPrefix(a.value, "--")
				if !long && strings.HasSuffix(a.value, "o") && i+1 < len(args) && (args[i+1].is("histexpand") || !args[i+1].exact()) ||
					!long && strings.ContainsRune(a.value, 'H') {
					return unwrapped{findings: []finding{dynamicCode("set -H turns on history expansion, which runs earlier commands again")}}
				}
			}
			return unwrapped{}
		},
		"hash":     loadOption("-p", "hash -p makes a command name run another file"),
		"enable":   loadOption("-f", "enable -f loads a shared library into the shell"),
		"read":     setsVariables,
		"export":   declBuiltin,
		"declare":  declBuiltin,
		"typeset":  declBuiltin,
		"local":    declBuiltin,
		"readonly": declBuiltin,
	}
}

// mapfileBuiltin judges mapfile -C CODE: CODE runs every -c lines, with
// the index and the line appended as arguments.
func mapfileBuiltin(args []word) unwrapped {
	var u unwrapped
	for _, code := range optionValues(args, "-C", "", "t") {
		if code.exact() {
			code = exactWord(code.value + ` "$index" "$line"`)
		}
		u.addScript(code, "mapfile -C")
	}
	return u
}

// completionBuiltin judges compgen and complete: -C CODE runs CODE with
// the words appended, and the -W word list is expanded like a command's
// arguments, command substitutions included.
func completionBuiltin(args []word) unwrapped {
	var u unwrapped
	const flags = "abcdefgjksuvDEI"
	for _, code := range optionValues(args, "-C", "", flags) {
		if code.exact() {
			code = exactWord(code.value + ` "$command" "$word" "$previous"`)
		}
		u.addScript(code, "complete -C")
	}
	for _, list := range optionValues(args, "-W", "", flags) {
		if list.exact() {
			list = exactWord(": " + list.value)
		}
		u.addScript(list, "complete -W")
	}
	return u
}

// sourceBuiltin judges source FILE (and . FILE): like running the script
// file (see shellInvocation). /dev/stdin reads standard input.
func sourceBuiltin(name string, args []word, stdin input) unwrapped {
	if len(args) > 0 && args[0].is("--") {
		args = args[1:]
	}
	if len(args) == 0 {
		return unwrapped{} // an error: nothing runs
	}
	if !isStdinPath(args[0]) {
		return scriptFile(name, args[0], args[1:])
	}
	switch {
	case stdin.text != nil:
		return unwrapped{scripts: []string{*stdin.text}}
	case stdin.file != nil:
		return scriptFile(name, *stdin.file, nil)
	}
	return unwrapped{findings: []finding{{rule: ruleScriptFile, opaque: true,
		detail: name + " runs code from a pipe or the terminal"}}}
}

func loadOption(opt, detail string) func([]word) unwrapped {
	return func(args []word) unwrapped {
		for _, a := range args {
			if a.is(opt) || a.exact() && strings.HasPrefix(a.value, "-") && strings.ContainsRune(a.value[1:], rune(opt[1])) {
				return unwrapped{findings: []finding{{rule: ruleLoadsCode, detail: detail}}}
			}
		}
		return unwrapped{}
	}
}

// setsVariables judges read: it may set a variable that changes what later
// commands load.
func setsVariables(args []word) unwrapped {
	var u unwrapped
	for _, a := range args {
		if a.exact() && envEffect(a.value) != noCode {
			u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "read sets " + a.value + " from input"})
		}
	}
	return u
}

// declBuiltin judges export and friends when the parser did not see them as
// declarations (builtin export, quoted names).
func declBuiltin(args []word) unwrapped {
	var u unwrapped
	for _, a := range args {
		if a.exact() && strings.HasPrefix(a.value, "-") {
			continue
		}
		if name, value, ok := splitAssignment(a); ok {
			u.add(envAssignment(name, value))
		} else if !a.exact() {
			u.findings = append(u.findings, finding{rule: ruleLoadsCode, detail: "sets a variable whose name is only known at run time: " + a.text})
		}
	}
	return u
}
