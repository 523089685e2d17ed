package cmdpolicy

import (
	"slices"
	"strings"
)

// optSpec describes the options a program reads before its first operand,
// getopt style: "-x" short options that may be clustered ("-xvf"), long
// options ("--name" or "--name=value"), and "--" ending the options.
type optSpec struct {
	value map[string]bool // options that take a value ("-u", "--user")
	pair  map[string]bool // long options that take two ("--bind SRC DEST")
	flag  map[string]bool // options that take none
	noRun map[string]bool // options after which the program runs nothing (--version, -l)
	// numeric accepts "-10" style options (nice).
	numeric bool
	// singleDash reads "-name" as one long option (sqlite3, find, terraform).
	singleDash bool
}

func optionSet(list string) map[string]bool {
	words := strings.Fields(list)
	m := make(map[string]bool, len(words)) // sized once: every run builds hundreds of these
	for _, o := range words {
		m[o] = true
	}
	return m
}

// opts builds an optSpec from space-separated option lists.
func opts(value, flag, noRun string) optSpec {
	return optSpec{value: optionSet(value), flag: optionSet(flag), noRun: optionSet(noRun)}
}

// maxReadings bounds how many ways of reading unknown options are kept.
const maxReadings = 4

// operandStarts returns where the first operand may start, reading options
// from ws[i:]. An option the spec does not know might or might not take a
// value, so each unknown option gives two readings; readings are deduplicated
// and bounded. ok is false when there are too many readings to follow.
// noRun is true when some reading ends on an option that runs nothing; the
// caller treats the command as running nothing only if no reading found an
// operand.
func (s optSpec) operandStarts(ws []word, i int) (starts []int, noRun, ok bool) {
	calls := 0
	var walk func(i int)
	walk = func(i int) {
		calls++
		if calls > 64 {
			return
		}
	scan:
		for i < len(ws) {
			w := ws[i]
			if !w.exact() {
				break // an unknown word is read as the operand
			}
			a := w.value
			switch {
			case a == "--":
				i++
				break scan
			case a == "-" || !strings.HasPrefix(a, "-"):
				break scan
			case s.numeric && isNumericOption(a):
				i++
			case strings.HasPrefix(a, "--") || s.singleDash:
				name, _, hasValue := strings.Cut(a, "=")
				switch {
				case s.noRun[name]:
					noRun = true
					return
				case hasValue || s.flag[name]:
					i++
				case s.value[name]:
					i += 2
				case s.pair[name]:
					i += 3
				default:
					walk(i + 2) // it takes a value
					i++         // it does not
				}
			default:
				next := i + 1
				rs := []rune(a[1:])
				for k, r := range rs {
					o := "-" + string(r)
					rest := k+1 < len(rs)
					switch {
					case s.noRun[o]:
						noRun = true
						return
					case s.value[o]:
						if !rest {
							next = i + 2
						}
					case s.flag[o]:
						continue
					default:
						// Unknown: either a flag (go on with the cluster) or an
						// option whose value is the rest of the cluster or the
						// next word.
						if rest {
							walk(i + 1)
						} else {
							walk(i + 2)
						}
						continue
					}
					break
				}
				i = next
			}
		}
		if !slices.Contains(starts, i) {
			starts = append(starts, i)
		}
	}
	walk(i)
	for k := range starts {
		starts[k] = min(starts[k], len(ws))
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	return starts, noRun, calls <= 64 && len(starts) <= maxReadings
}

func isNumericOption(a string) bool {
	d := strings.TrimPrefix(a[1:], "-")
	if d == "" {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// optionValues returns the values given to any of the named options
// anywhere in args ("-c X", "-cX", "--command X", "--command=X"), stopping
// at "--". Values that are only known at run time are returned as they are.
func optionValues(args []word, short, long string, shortFlags string) []word {
	var out []word
	for i := 0; i < len(args); i++ {
		w := args[i]
		if !w.exact() {
			// "--exec=$(which x)": the option is known, its value is not.
			if name, _, ok := strings.Cut(w.literalPrefix(), "="); long != "" && ok && abbreviates(name, long) {
				out = append(out, unknownWord(w.text))
			}
			continue
		}
		a := w.value
		if a == "--" {
			break
		}
		if long != "" {
			name, v, hasValue := strings.Cut(a, "=")
			switch {
			case !abbreviates(name, long):
			case hasValue:
				out = append(out, exactWord(v))
				continue
			case i+1 < len(args):
				out = append(out, args[i+1])
				i++
				continue
			}
		}
		if short == "" || !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			continue
		}
		// Walk a cluster such as "-qc": flags first, then the option.
		body := a[1:]
		for k := 0; k < len(body); k++ {
			if body[k] == short[1] {
				if k+1 < len(body) {
					out = append(out, exactWord(body[k+1:]))
				} else if i+1 < len(args) {
					out = append(out, args[i+1])
					i++
				}
				break
			}
			if !strings.ContainsRune(shortFlags, rune(body[k])) {
				break
			}
		}
	}
	return out
}

// abbreviates reports whether the option given names long: written out,
// or, for a "--" option, abbreviated, which getopt_long (GNU tar, env,
// flock), git and npm accept ("--exe" for "--exec", "--s" for env's
// "--split-string"). An abbreviation that is ambiguous makes the program
// refuse to run, so reading it as this option is only stricter.
func abbreviates(given, long string) bool {
	return given == long || strings.HasPrefix(long, "--") && len(given) > len("--") && strings.HasPrefix(long, given)
}

// scanArgs reads options anywhere in args, GNU style, until "--": it returns
// the values of value options keyed by the option as written (the short
// and long spelling both appear as given) and the operands. Unknown options
// are read as flags.
func (s optSpec) scanArgs(args []word) (vals map[string][]word, operands []word, noRun bool) {
	vals = map[string][]word{}
	for i := 0; i < len(args); i++ {
		w := args[i]
		if !w.exact() || !strings.HasPrefix(w.value, "-") || w.value == "-" {
			operands = append(operands, w)
			continue
		}
		a := w.value
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "--") || s.singleDash {
			name, v, hasValue := strings.Cut(a, "=")
			if s.singleDash {
				name = "-" + strings.TrimLeft(name, "-")
			}
			switch {
			case s.noRun[name]:
				noRun = true
			case hasValue:
				vals[name] = append(vals[name], exactWord(v))
			case s.value[name] && i+1 < len(args):
				vals[name] = append(vals[name], args[i+1])
				i++
			}
			continue
		}
		for k := 1; k < len(a); k++ {
			o := "-" + a[k:k+1]
			if s.noRun[o] {
				noRun = true
			}
			if s.value[o] {
				if k+1 < len(a) {
					vals[o] = append(vals[o], exactWord(a[k+1:]))
				} else if i+1 < len(args) {
					vals[o] = append(vals[o], args[i+1])
					i++
				}
				break
			}
		}
	}
	return vals, operands, noRun
}

// literalPrefix returns the text a word certainly starts with: all of it
// when it is exact, else the literal characters before its first wildcard.
func (w word) literalPrefix() string {
	if w.exact() {
		return w.value
	}
	return w.prefix
}
