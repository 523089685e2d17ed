package winplan

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
)

// BaseEnvNames are the variables Windows and its programs need to work
// (without SystemRoot, Winsock fails to load; without windir, ComSpec and
// PATHEXT, shells and installers misbehave; without the profile paths, tools
// cannot find their configuration), none of them secret. The policy's
// environment filter does not know them, so they are taken from cordon's own
// environment when the filtered one lacks them (review M11).
var BaseEnvNames = []string{
	"SystemRoot", "windir", "SystemDrive", "ComSpec", "PATHEXT", "OS",
	"PROCESSOR_ARCHITECTURE", "PROCESSOR_IDENTIFIER", "PROCESSOR_LEVEL", "PROCESSOR_REVISION", "NUMBER_OF_PROCESSORS",
	"ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "CommonProgramFiles", "CommonProgramFiles(x86)",
	"CommonProgramW6432", "ProgramData", "ALLUSERSPROFILE", "PUBLIC",
	"USERPROFILE", "HOMEDRIVE", "HOMEPATH", "APPDATA", "LOCALAPPDATA", "USERNAME", "USERDOMAIN", "COMPUTERNAME",
	"PSModulePath",
}

// withBase returns env with each base variable of host it lacks added
// (names compared without case).
func withBase(env, host []string) []string {
	out := slices.Clone(env)
	for _, name := range BaseEnvNames {
		if envValue(env, name) != "" {
			continue
		}
		if v := envValue(host, name); v != "" {
			out = append(out, name+"="+v)
		}
	}
	return out
}

// setEnv returns env with the variables of set given those values,
// replacing any spelling of their names.
func setEnv(env []string, set map[string]string) []string {
	var out []string
	for _, kv := range env {
		if name, _, ok := splitEnv(kv); ok {
			if _, replaced := set[strings.ToUpper(name)]; replaced {
				continue
			}
		}
		out = append(out, kv)
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		out = append(out, n+"="+set[n])
	}
	return out
}

// deadProxy is where the proxy variables point when no proxy runs: the
// discard port on loopback, which refuses connections, so proxy-aware tools
// fail instead of reaching the network.
const deadProxy = "http://127.0.0.1:9"

// proxyVars are the variables set to cordon's proxy. Windows variable names
// are case-insensitive, so one spelling each covers http_proxy too.
var proxyVars = []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}

// withProxy returns env without duplicates (names compared without case,
// the last value winning) and with the proxy variables pointing at proxyURL.
// NO_PROXY is removed so loopback also goes through the proxy, which decides.
func withProxy(env []string, proxyURL string) ([]string, error) {
	if proxyURL == "" {
		proxyURL = deadProxy
	}
	u, err := url.Parse(proxyURL)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" {
		return nil, fmt.Errorf("proxy URL %q is not an http:// URL", redactURL(proxyURL))
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("proxy URL %q is not on a loopback address", redactURL(proxyURL))
	}
	set := map[string]string{}
	var order []string
	put := func(name, value string) {
		k := strings.ToUpper(name)
		if _, ok := set[k]; !ok {
			order = append(order, k)
		}
		set[k] = name + "=" + value
	}
	for _, kv := range env {
		name, value, ok := splitEnv(kv)
		if !ok {
			return nil, fmt.Errorf("environment entry %q is not NAME=VALUE", kv)
		}
		put(name, value)
	}
	delete(set, "NO_PROXY")
	for _, v := range proxyVars {
		put(v, proxyURL)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		if kv, ok := set[k]; ok {
			out = append(out, kv)
		}
	}
	return out, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// splitEnv splits NAME=VALUE. A name may start with '=' (cmd.exe keeps the
// per-drive directories as =C:=C:\dir), so the separator is searched from
// the second character.
func splitEnv(kv string) (name, value string, ok bool) {
	if kv == "" {
		return "", "", false
	}
	i := strings.IndexByte(kv[1:], '=')
	if i < 0 {
		return "", "", false
	}
	return kv[:i+1], kv[i+2:], true
}

// EnvBlock encodes env as the block CreateProcessAsUser takes with
// CREATE_UNICODE_ENVIRONMENT: UTF-16 NAME=VALUE strings, each NUL-terminated,
// sorted by name without regard to case as the documentation asks, and a
// final NUL.
func EnvBlock(env []string) ([]uint16, error) {
	sorted := slices.Clone(env)
	for _, kv := range sorted {
		if strings.IndexByte(kv, 0) >= 0 {
			return nil, fmt.Errorf("environment entry %q contains a NUL character", kv)
		}
		if _, _, ok := splitEnv(kv); !ok {
			return nil, fmt.Errorf("environment entry %q is not NAME=VALUE", kv)
		}
	}
	slices.SortStableFunc(sorted, func(a, b string) int {
		na, _, _ := splitEnv(a)
		nb, _, _ := splitEnv(b)
		return strings.Compare(strings.ToUpper(na), strings.ToUpper(nb))
	})
	var block []uint16
	for _, kv := range sorted {
		block = append(block, utf16.Encode([]rune(kv))...)
		block = append(block, 0)
	}
	if len(block) == 0 {
		block = append(block, 0)
	}
	return append(block, 0), nil
}

// CommandLine joins args into one command line that the Microsoft C runtime
// (and Go, and most Windows programs) split back into the same args:
// arguments with spaces, tabs or quotes are quoted; backslashes are doubled
// only before a quote.
func CommandLine(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n\v\"") {
			b.WriteString(a)
			continue
		}
		b.WriteByte('"')
		slashes := 0
		for _, c := range []byte(a) {
			switch c {
			case '\\':
				slashes++
				continue
			case '"':
				// Backslashes before a quote are doubled, and the quote escaped.
				b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			default:
				b.WriteString(strings.Repeat(`\`, slashes))
			}
			b.WriteByte(c)
			slashes = 0
		}
		// Before the closing quote, too.
		b.WriteString(strings.Repeat(`\`, 2*slashes))
		b.WriteByte('"')
	}
	return b.String()
}

// ErrNotFound: the command is not an existing file, nor found on the
// command's PATH.
var ErrNotFound = errors.New("command not found")

// LookPath finds the program file names: a path (absolute, or relative to
// dir) is taken as is; a bare name is searched in the PATH of env, never in
// the current directory. Without an extension listed in PATHEXT, each
// PATHEXT extension is tried. isFile reports whether a path is an existing
// regular file.
func LookPath(file string, env []string, dir string, isFile func(string) bool) (string, error) {
	exts := pathExts(env)
	try := func(p string) (string, bool) {
		if hasExt(p, exts) {
			return p, isFile(p)
		}
		for _, e := range exts {
			if isFile(p + e) {
				return p + e, true
			}
		}
		return "", false
	}
	if strings.ContainsAny(file, `\/:`) {
		p := file
		if _, _, err := splitVolume(file); err != nil {
			p = joinPath(dir, file)
		}
		p, err := CleanPath(p)
		if err != nil {
			return "", fmt.Errorf("%w: %s", ErrNotFound, file)
		}
		if found, ok := try(p); ok {
			return found, nil
		}
		return "", fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	for _, d := range strings.Split(envValue(env, "PATH"), ";") {
		d = strings.Trim(d, `"`)
		clean, err := CleanPath(d)
		if d == "" || err != nil {
			continue
		}
		if found, ok := try(joinPath(clean, file)); ok {
			return found, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not in the command's PATH", ErrNotFound, file)
}

func pathExts(env []string) []string {
	v := envValue(env, "PATHEXT")
	if v == "" {
		v = ".COM;.EXE;.BAT;.CMD"
	}
	var exts []string
	for _, e := range strings.Split(v, ";") {
		if e = strings.TrimSpace(e); strings.HasPrefix(e, ".") && len(e) > 1 {
			exts = append(exts, strings.ToLower(e))
		}
	}
	return exts
}

func hasExt(p string, exts []string) bool {
	lower := strings.ToLower(baseName(p))
	return slices.ContainsFunc(exts, func(e string) bool { return strings.HasSuffix(lower, e) })
}

// envValue returns the value of name in env, names compared without case.
func envValue(env []string, name string) string {
	value := ""
	for _, kv := range env {
		if n, v, ok := splitEnv(kv); ok && strings.EqualFold(n, name) {
			value = v
		}
	}
	return value
}
