package cmdpolicy

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Text that becomes code.
//
// bash runs the command substitutions it finds in a string in more places
// than eval: an array subscript evaluated as arithmetic ($((x)), ((x)),
// let, [[ x -eq y ]], ${a[x]}, ${s:x}, a[x]=v, declare -i, and the names
// read, printf -v, unset and test -v are given), an indirect ${!x}, a
// nameref, and prompt expansion (${x@P}). x='a[$(cmd)]'; (( x )) runs cmd.
//
// A literal that holds such a subscript on its own is caught where it is
// written (analysis.hiddenSubscripts). Pieces are harder: x='a[';
// y='$(cmd)]'; (( $x$y )). cordon does not follow values from variable to
// variable. Instead it notes, for the whole command line (nested shell code
// included), whether any literal text could supply a command substitution
// ("$" and "(", a backquote, or an escape such as \x24 that printf or
// echo -e turns into one), and whether any of those places evaluates a
// value that is not a literal number. When both occur, the line counts as
// running code cordon cannot see.
//
// Values that only exist at run time (a program's output, a file read with
// read) are not followed: they are the data of programs the sandbox
// confines, as a script file is (see docs/commands.md).

// codeText records what the analysis saw of both halves.
type codeText struct {
	dollar, paren, backquote, escape bool
	// dotglob: literal text mentions a way to change pathname expansion
	// (shopt, dotglob, GLOBIGNORE, BASHOPTS); see pathglob.go.
	dotglob bool
	example string // the first literal that supplied a part
	sink    string // the first place that evaluates a value
}

// source reports whether literal text on the line could put a command
// substitution together.
func (c *codeText) source() bool { return c.backquote || c.escape || c.dollar && c.paren }

// literal notes a piece of literal text, as the shell will see it.
func (c *codeText) literal(s string) {
	c.dollar = c.dollar || strings.ContainsRune(s, '$')
	c.paren = c.paren || strings.ContainsRune(s, '(')
	c.backquote = c.backquote || strings.ContainsRune(s, '`')
	c.escape = c.escape || strings.Contains(s, `\`) && tables().codeEscape.MatchString(s)
	if c.example == "" && c.source() {
		c.example = s
	}
	if !c.dotglob {
		for _, w := range []string{"shopt", "dotglob", "GLOBIGNORE", "BASHOPTS"} {
			if strings.Contains(s, w) {
				c.dotglob = true
			}
		}
	}
}

func (c *codeText) evaluates(text string) {
	if c.sink == "" {
		c.sink = text
	}
}

// scanCode notes the literal text and the evaluating places of parsed shell
// code, and returns the prompt expansions, which run any command
// substitution in a value whatever its source.
func (c *codeText) scan(f *syntax.File) (prompts []string) {
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Lit:
			c.literal(n.Value)
		case *syntax.SglQuoted:
			if !n.Dollar {
				c.literal(n.Value)
			} else if s, ok := decodeANSIC(n.Value); ok {
				c.literal(s)
			} else {
				c.literal("`") // an escape cordon cannot decode: anything
			}
		case *syntax.ArithmExp:
			c.arithm(n.X, printNode(n))
		case *syntax.ArithmCmd:
			c.arithm(n.X, printNode(n))
		case *syntax.LetClause:
			for _, x := range n.Exprs {
				c.arithm(x, printNode(n))
			}
		case *syntax.CStyleLoop:
			for _, x := range []syntax.ArithmExpr{n.Init, n.Cond, n.Post} {
				c.arithm(x, "for (( ... ))")
			}
		case *syntax.ParamExp:
			if c.paramExp(n) {
				prompts = append(prompts, printNode(n))
			}
		case *syntax.Assign:
			if n.Index != nil {
				c.arithm(n.Index, printNode(n))
			}
		case *syntax.DeclClause:
			for _, as := range n.Args {
				if as.Naked && as.Name == nil && as.Value != nil {
					if opt := as.Value.Lit(); strings.HasPrefix(opt, "-") && strings.ContainsAny(opt, "in") {
						c.evaluates(printNode(n)) // integer variables and namerefs evaluate what they are given
					}
				}
			}
		case *syntax.BinaryTest:
			switch n.Op {
			case syntax.TsEql, syntax.TsNeq, syntax.TsLeq, syntax.TsGeq, syntax.TsLss, syntax.TsGtr:
				for _, x := range []syntax.TestExpr{n.X, n.Y} {
					if w, ok := x.(*syntax.Word); !ok || !isNumber(w.Lit()) {
						c.evaluates(printNode(n))
					}
				}
			}
		case *syntax.UnaryTest:
			if n.Op == syntax.TsVarSet || n.Op == syntax.TsRefVar {
				if w, ok := n.X.(*syntax.Word); !ok || w.Lit() == "" || strings.ContainsRune(w.Lit(), '[') {
					c.evaluates(printNode(n))
				}
			}
		}
		return true
	})
	return prompts
}

// paramExp notes the evaluating forms of ${...} and reports a prompt
// expansion.
func (c *codeText) paramExp(p *syntax.ParamExp) (prompt bool) {
	listIndex := false
	if w, ok := p.Index.(*syntax.Word); ok {
		listIndex = w.Lit() == "@" || w.Lit() == "*"
	}
	if p.Excl && p.Names == 0 && !listIndex {
		c.evaluates(printNode(p)) // ${!x}: the value of x names a variable, subscript included
	}
	if p.Index != nil && !listIndex {
		c.arithm(p.Index, printNode(p))
	}
	if p.Slice != nil {
		c.arithm(p.Slice.Offset, printNode(p))
		c.arithm(p.Slice.Length, printNode(p))
	}
	return p.Exp != nil && p.Exp.Op == syntax.OtherParamOps && p.Exp.Word != nil && strings.Contains(p.Exp.Word.Lit(), "P")
}

// arithm notes an arithmetic expression that refers to anything but
// literal numbers: a variable (whose value bash evaluates in turn) or an
// expansion.
func (c *codeText) arithm(x syntax.ArithmExpr, text string) {
	if x == nil || c.sink != "" {
		return
	}
	refers := false
	syntax.Walk(x, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Lit:
			if !isNumber(n.Value) {
				refers = true
			}
		case *syntax.ParamExp, *syntax.CmdSubst, *syntax.ProcSubst, *syntax.DblQuoted, *syntax.SglQuoted:
			refers = true
		}
		return !refers
	})
	if refers {
		c.evaluates(text)
	}
}

// names notes the arguments of a built-in that takes variable names (read,
// unset, printf -v, ...): a name only known at run time, or one with a
// subscript, is evaluated.
func (c *codeText) names(builtin string, ws []word) {
	for _, w := range ws {
		if !w.exact() || strings.ContainsRune(w.value, '[') {
			c.evaluates(builtin + " " + w.text)
			return
		}
	}
}

// nameArgs returns the arguments of a built-in that are variable names, for
// codeText.names; nil for other commands.
func nameArgs(name string, args []word) []word {
	switch name {
	case "read", "unset", "mapfile", "readarray":
		return args
	case "getopts":
		if len(args) > 1 {
			return args[1:2]
		}
	case "printf":
		return optionValues(args, "-v", "", "")
	case "wait":
		return optionValues(args, "-p", "", "fn")
	case "test", "[":
		var out []word
		for i, a := range args {
			if (a.is("-v") || a.is("-R")) && i+1 < len(args) {
				out = append(out, args[i+1])
			}
		}
		return out
	}
	return nil
}

func isNumber(s string) bool { return tables().number.MatchString(s) }
