package winplan

import (
	"fmt"
	"strings"
)

// CleanPath returns the canonical spelling of an absolute Windows path:
// backslashes, no "." or ".." components, no empty components, no trailing
// dots or spaces on a component (Win32 strips them, so ".git." names ".git"),
// an upper-case drive letter, and a trailing backslash only on a volume root.
// The \\?\ and \\?\UNC\ prefixes are removed. Relative, drive-relative
// (C:dir) and rooted-without-drive (\dir) paths are errors, as are device
// paths (\\.\...).
func CleanPath(p string) (string, error) {
	volume, rest, err := splitVolume(p)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, c := range strings.Split(rest, `\`) {
		if c == ".." {
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
			continue
		}
		// Win32 drops trailing dots and spaces, so "a." and "a " name "a";
		// a component that is nothing else ("", ".", "...") is a no-op.
		if c = strings.TrimRight(c, ". "); c != "" {
			parts = append(parts, c)
		}
	}
	return volume + `\` + strings.Join(parts, `\`), nil
}

// splitVolume splits an absolute path into its volume (C: or \\server\share)
// and the rest, with all separators turned into backslashes.
func splitVolume(p string) (volume, rest string, err error) {
	orig := p
	p = strings.ReplaceAll(p, "/", `\`)
	switch {
	case hasPrefixFold(p, `\\?\UNC\`):
		p = `\\` + p[len(`\\?\UNC\`):]
	case strings.HasPrefix(p, `\\?\`):
		p = p[len(`\\?\`):]
	case strings.HasPrefix(p, `\\.\`):
		return "", "", fmt.Errorf("path %q is a device path, not a file-system path", orig)
	}
	if len(p) >= 2 && p[1] == ':' && isASCIILetter(p[0]) {
		if len(p) == 2 || p[2] != '\\' {
			return "", "", fmt.Errorf("path %q is relative to the current directory of drive %c:; give an absolute path such as %c:\\dir", orig, p[0], p[0])
		}
		return strings.ToUpper(p[:1]) + ":", p[3:], nil
	}
	if strings.HasPrefix(p, `\\`) {
		parts := strings.SplitN(p[2:], `\`, 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return "", "", fmt.Errorf("path %q is not a complete UNC path (\\\\server\\share\\...)", orig)
		}
		rest := ""
		if len(parts) == 3 {
			rest = parts[2]
		}
		return `\\` + parts[0] + `\` + parts[1], rest, nil
	}
	return "", "", fmt.Errorf("path %q is not absolute; give a full path such as C:\\dir", orig)
}

// VolumeRoot returns the root of the volume an absolute path names by its
// form: C:\ for C:\dir, \\server\share\ for a UNC path.
func VolumeRoot(p string) (string, error) {
	volume, _, err := splitVolume(p)
	if err != nil {
		return "", err
	}
	return volume + `\`, nil
}

// PathKey is the form paths are compared and stored by: the clean path,
// case-folded, because Windows file names are case-insensitive. (Folding with
// strings.ToLower is close to, not identical with, NTFS's upcase table; two
// spellings it misses get two keys, which costs a second SID, not safety.)
func PathKey(p string) (string, error) {
	c, err := CleanPath(p)
	if err != nil {
		return "", err
	}
	return strings.ToLower(c), nil
}

// mustKey is PathKey for paths that are already clean.
func mustKey(clean string) string { return strings.ToLower(clean) }

// IsVolumeRoot reports whether the clean path p is a drive or share root
// (C:\, \\server\share\).
func IsVolumeRoot(p string) bool {
	return strings.HasSuffix(p, `\`)
}

// within reports whether the clean path p is dir or lies below it.
func within(p, dir string) bool {
	kp, kd := mustKey(p), mustKey(dir)
	if kp == kd {
		return true
	}
	return strings.HasPrefix(kp, strings.TrimSuffix(kd, `\`)+`\`)
}

// strictlyWithin reports whether the clean path p lies below dir.
func strictlyWithin(p, dir string) bool {
	return within(p, dir) && mustKey(p) != mustKey(dir)
}

// parentOf returns the parent of the clean path p, or "" for a volume root.
func parentOf(p string) string {
	if IsVolumeRoot(p) {
		return ""
	}
	i := strings.LastIndexByte(p, '\\')
	parent := p[:i]
	if !strings.Contains(parent, `\`) || (strings.HasPrefix(parent, `\\`) && strings.Count(parent, `\`) == 3) {
		// C: or \\server\share: the parent is the volume root.
		return parent + `\`
	}
	return parent
}

// Split returns the parent directory and the last component of the clean
// path p; for a volume root, p itself and "".
func Split(p string) (dir, name string) {
	if IsVolumeRoot(p) {
		return p, ""
	}
	return parentOf(p), baseName(p)
}

// baseName returns the last component of the clean path p ("" for a volume
// root).
func baseName(p string) string {
	if IsVolumeRoot(p) {
		return ""
	}
	return p[strings.LastIndexByte(p, '\\')+1:]
}

// joinPath appends a single component to the clean directory path dir.
func joinPath(dir, name string) string {
	return strings.TrimSuffix(dir, `\`) + `\` + name
}

// ancestorsBetween returns the directories strictly between top and p,
// outermost first. p must lie strictly below top.
func ancestorsBetween(top, p string) []string {
	var chain []string
	for a := parentOf(p); a != "" && strictlyWithin(a, top); a = parentOf(a) {
		chain = append(chain, a)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

func isASCIILetter(b byte) bool { return ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
