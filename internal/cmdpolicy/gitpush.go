package cmdpolicy

import (
	"strings"
)

// defaultProtectedBranches are always protected; Config.ProtectedBranches
// adds to them.
var defaultProtectedBranches = []string{"main", "master", "release/*"}

// gitPushMatcher judges `git push` (after git's global options are
// removed): with force set it finds force pushes, otherwise pushes that
// update or delete a protected branch.
type gitPushMatcher struct {
	force     bool
	protected []pattern
}

// gitPush is what a push command line says.
type gitPush struct {
	force, forceMaybe bool
	// targets are the remote branches the refspecs update, as words (a
	// refspec only known at run time is an unknown word).
	targets []word
	// current: the push updates the current branch (no refspec, or HEAD).
	current bool
	// all: --all, --branches or --mirror push every local branch.
	all bool
	// prune may delete remote branches.
	prune bool
	// dynamic: an argument is only known at run time.
	dynamic bool
}

func parseGitPush(args []word) gitPush {
	var p gitPush
	var positional []word
	onlyTags := false
	endOpts := false
	for i := 0; i < len(args); i++ {
		w := args[i]
		if !w.exact() {
			p.dynamic = true
			if w.couldBeOption() {
				p.forceMaybe = true
			}
			positional = append(positional, w)
			continue
		}
		a := w.value
		switch {
		case endOpts || !strings.HasPrefix(a, "-") || a == "-":
			positional = append(positional, w)
		case a == "--":
			endOpts = true
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a, "=")
			switch name {
			case "--force", "--force-with-lease", "--force-if-includes":
				p.force = true
			case "--mirror":
				p.force, p.all = true, true
			case "--all", "--branches":
				p.all = true
			case "--prune":
				p.prune = true
			case "--tags":
				onlyTags = true
			case "--repo", "--receive-pack", "--exec", "--push-option":
				if !strings.Contains(a, "=") {
					i++
				}
			}
		default: // a cluster of short options such as -fu
			for k := 1; k < len(a); k++ {
				if a[k] == 'f' {
					p.force = true
				}
				if a[k] == 'o' { // -o takes a value: the rest, or the next word
					if k == len(a)-1 {
						i++
					}
					break
				}
			}
		}
	}
	if len(positional) <= 1 { // no refspec: the current branch, by push.default
		p.current = !onlyTags && !p.all
		return p
	}
	refspecs := positional[1:]
	for i := 0; i < len(refspecs); i++ {
		w := refspecs[i]
		if !w.exact() {
			p.targets = append(p.targets, word{pattern: anyGlob, fields: w.fields, text: w.text})
			continue
		}
		spec := w.value
		if spec == "tag" && i+1 < len(refspecs) { // "tag v1" is refs/tags/v1
			i++
			continue
		}
		if strings.HasPrefix(spec, "+") {
			p.force = true
			spec = spec[1:]
		}
		if spec == ":" { // the "matching" refspec: every branch both sides have
			p.all = true
			continue
		}
		src, dst, hasColon := strings.Cut(spec, ":")
		if !hasColon {
			dst = src
		}
		switch dst {
		case "":
			continue
		case "HEAD", "@":
			p.current = true
			continue
		}
		if strings.HasPrefix(dst, "refs/") && !strings.HasPrefix(dst, "refs/heads/") {
			continue // a tag or another kind of ref
		}
		dst = strings.TrimPrefix(dst, "refs/heads/")
		target := exactWord(dst)
		if strings.Contains(dst, "*") { // refs/heads/*:refs/heads/* updates many branches
			g, _ := parseGlob(dst)
			target = word{pattern: g, fields: someFields, text: dst}
		}
		p.targets = append(p.targets, target)
	}
	return p
}

// subtreePushArgs turns "git subtree push -P DIR REMOTE REF" into the
// arguments of the push it makes: REMOTE REF.
func subtreePushArgs(args []word) []word {
	var out []word
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a.is("-P") || a.is("--prefix") || a.is("-m") || a.is("--message") || a.is("--annotate") || a.is("-b") || a.is("--branch"):
			i++
		case a.exact() && strings.HasPrefix(a.value, "-"):
		default:
			out = append(out, a)
		}
	}
	return out
}

// couldBeOption reports whether a word only known at run time could start
// with '-' or '+' (an option or a forced refspec).
func (w word) couldBeOption() bool {
	if w.exact() {
		return strings.HasPrefix(w.value, "-") || strings.HasPrefix(w.value, "+")
	}
	return len(w.pattern) == 0 || w.pattern[0].kind != globRune || w.pattern[0].r == '-' || w.pattern[0].r == '+'
}

func (m gitPushMatcher) match(s *subject) (verdict, string) {
	var why string
	var whyVerdict verdict
	v := s.each(func(argv []word) verdict {
		v, reason := m.judge(argv)
		if v > whyVerdict {
			whyVerdict, why = v, reason
		}
		return v
	})
	return v, why
}

func (m gitPushMatcher) judge(argv []word) (verdict, string) {
	if len(argv) < 2 {
		return no, ""
	}
	pv := maybe // a program only known at run time could be git
	if argv[0].exact() {
		pv = programVerdict(tables().gitProgram, argv[0].value)
	}
	if pv == no {
		return no, ""
	}
	v, why := m.judgePush(argv)
	if v == yes && pv == maybe {
		why = argv[0].text + " may start git (on a case-insensitive file system, or only known at run time)"
	}
	return min(v, pv), why
}

func (m gitPushMatcher) judgePush(argv []word) (verdict, string) {
	sub := argv[1]
	if !sub.exact() {
		return maybe, "the git subcommand is only known at run time and may be push"
	}
	args := argv[2:]
	switch {
	case sub.value == "push", sub.value == "send-pack": // send-pack is push's plumbing
	case sub.value == "subtree" && len(args) > 0 && args[0].is("push"):
		args = subtreePushArgs(args[1:])
	default:
		return no, ""
	}
	p := parseGitPush(args)
	if m.force {
		switch {
		case p.force:
			return yes, ""
		case p.forceMaybe || p.dynamic:
			return maybe, "an argument only known at run time may force the push"
		}
		return no, ""
	}
	switch {
	case p.all:
		return yes, "pushes every branch, protected ones included"
	}
	for _, t := range p.targets {
		for _, pat := range m.protected {
			if t.exact() && pat.matchString(t.value) {
				return yes, "pushes to " + t.value
			}
		}
	}
	for _, t := range p.targets {
		for _, pat := range m.protected {
			if !t.exact() && pat.couldMatch(t) {
				return maybe, "the branch " + t.text + " is only known at run time and may be protected"
			}
		}
	}
	switch {
	case p.current:
		return maybe, "pushes the current branch, which may be a protected one"
	case p.prune:
		return maybe, "--prune may delete protected branches on the remote"
	}
	return no, ""
}

func (m gitPushMatcher) String() string {
	if m.force {
		return "git push with --force, --force-with-lease, -f, --mirror or a +refspec"
	}
	names := make([]string, len(m.protected))
	for i, p := range m.protected {
		names[i] = p.src
	}
	return "git push to a protected branch (" + strings.Join(names, ", ") +
		"), of every branch (--all, --mirror), or of the current branch (no refspec, HEAD)"
}
