package accessmodel

import (
	"fmt"
	"strings"
)

// parsedPath is a Win32 path split the way the Win32 layer hands it to the
// file system.
type parsedPath struct {
	vol    string   // C: or \\server\share, as spelled
	comps  []string // components below the volume root
	stream string   // the last component's alternate data stream, if any
}

// parseWin32 splits an absolute Win32 path. Outside the \\?\ prefix it
// normalises as "File path formats on Windows systems" (.NET documentation,
// "Normalize separators", "Evaluate relative components", "Trim
// characters") describes Win32 does: / becomes \, repeated separators
// collapse, . and .. are evaluated, a component ending in a single period
// loses it, and the last component, unless the path ends in a separator,
// loses all trailing periods and spaces. \\?\ paths are taken literally.
// An alternate data stream (name:stream, name:stream:$DATA, name::$DATA)
// names the file itself.
func parseWin32(p string) (parsedPath, error) {
	var out parsedPath
	literal := false
	switch {
	case strings.HasPrefix(p, `\\?\UNC\`) || strings.HasPrefix(p, `\\?\unc\`):
		literal, p = true, `\\`+p[len(`\\?\UNC\`):]
	case strings.HasPrefix(p, `\\?\`):
		literal, p = true, p[len(`\\?\`):]
	case strings.HasPrefix(p, `\\.\`):
		return out, fmt.Errorf("%q is a device path", p)
	}
	if !literal {
		p = strings.ReplaceAll(p, "/", `\`)
	}
	var rest string
	switch {
	case len(p) >= 3 && p[1] == ':' && p[2] == '\\' && isLetter(p[0]):
		out.vol, rest = strings.ToUpper(p[:1])+":", p[3:]
	case strings.HasPrefix(p, `\\`):
		parts := strings.SplitN(p[2:], `\`, 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return out, fmt.Errorf("%q is not a complete UNC path", p)
		}
		out.vol = `\\` + parts[0] + `\` + parts[1]
		if len(parts) == 3 {
			rest = parts[2]
		}
	default:
		return out, fmt.Errorf("%q is not an absolute path", p)
	}
	trailingSep := strings.HasSuffix(rest, `\`)
	raw := strings.Split(rest, `\`)
	for i, c := range raw {
		last := i == len(raw)-1
		if literal {
			if c != "" {
				out.comps = append(out.comps, c)
			}
			continue
		}
		switch c {
		case "", ".":
			continue
		case "..":
			if len(out.comps) > 0 {
				out.comps = out.comps[:len(out.comps)-1]
			}
			continue
		}
		if last && !trailingSep {
			c = strings.TrimRight(c, ". ")
		} else if strings.HasSuffix(c, ".") && !strings.HasSuffix(c, "..") {
			c = c[:len(c)-1]
		}
		if c != "" {
			out.comps = append(out.comps, c)
		}
	}
	for i, c := range out.comps {
		name, stream, found := strings.Cut(c, ":")
		if !found {
			continue
		}
		if i != len(out.comps)-1 {
			return out, fmt.Errorf("%q: a stream name is allowed on the last component only", p)
		}
		stream = strings.TrimSuffix(strings.TrimSuffix(stream, ":$DATA"), ":$data")
		out.comps[i], out.stream = name, stream
		if name == "" {
			return out, fmt.Errorf("%q: empty file name before a stream", p)
		}
	}
	return out, nil
}

func isLetter(b byte) bool { return ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') }

func volKey(v string) string { return strings.ToLower(v) }
