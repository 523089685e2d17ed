package credentials

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// Secret is a credential's value, read by Resolve. Printing it with fmt
// (any verb), or encoding it as JSON or text, gives "[redacted:NAME]",
// never the value: only Value and EnvEntry return it.
type Secret struct {
	// Name is the credential's name, Env the variable the command gets.
	Name, Env string
	value     string
}

// Value returns the secret itself.
func (s Secret) Value() string { return s.value }

// EnvEntry returns "ENV=VALUE", for the command's environment.
func (s Secret) EnvEntry() string { return s.Env + "=" + s.value }

// String returns the placeholder Redact uses for this secret.
func (s Secret) String() string { return "[redacted:" + s.Name + "]" }

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// Format keeps every fmt verb from printing the value.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalText keeps encoding/json, TOML and the like from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

const (
	// minSecretLen is the shortest value Resolve accepts. Redact replaces
	// every occurrence of a value in what cordon prints; a shorter one would
	// garble ordinary text and could not be told apart from it.
	minSecretLen = 8
	// maxSecretLen bounds what Resolve reads from a file or the environment.
	maxSecretLen = 64 << 10
)

// Resolve reads s's secret outside the sandbox: from environ (cordon's own
// environment, as os.Environ returns it) when s has from_env, or from the
// file s names (a leading ~/ is home). One trailing newline ("\n" or
// "\r\n") is removed. Errors name the credential, the variable or file and
// what to do; they never contain any part of the value.
//
// A file must be a regular file, not a symbolic link, owned by the user
// running cordon, and neither readable nor writable by group or others
// (chmod 600). from_file is not supported on Windows yet (its ACLs are not
// checked): use from_env there.
func Resolve(s Scope, home string, environ []string) (Secret, error) {
	sec := Secret{Name: s.Name, Env: s.Env}
	if !s.IsDefinition() || s.Env == "" {
		return sec, fmt.Errorf("credential %q: not a definition (env and from_env or from_file are missing); resolve only merged scopes", s.Name)
	}
	var (
		raw  string
		from string
		err  error
	)
	switch {
	case s.FromEnv != "":
		from = "from_env " + s.FromEnv
		raw, err = lookupEnv(s.FromEnv, environ)
	case s.FromFile != "":
		path, ok := s.SecretFile(home)
		if !ok {
			return sec, fmt.Errorf("credential %q: from_file %s: the home directory is unknown, so ~/ cannot be expanded; give an absolute path", s.Name, s.FromFile)
		}
		from = "from_file " + path
		raw, err = readSecretFile(path)
	default:
		return sec, fmt.Errorf("credential %q: neither from_env nor from_file is set", s.Name)
	}
	if err != nil {
		return sec, fmt.Errorf("credential %q: %s: %w", s.Name, from, err)
	}
	v := strings.TrimSuffix(raw, "\n")
	if len(v) < len(raw) {
		v = strings.TrimSuffix(v, "\r")
	}
	switch {
	case v == "":
		return sec, fmt.Errorf("credential %q: %s: the secret is empty; put the secret there, or remove the credential", s.Name, from)
	case len(v) < minSecretLen:
		return sec, fmt.Errorf("credential %q: %s: the secret is shorter than %d bytes; cordon cannot redact so short a value from what it prints, so it does not hand it over", s.Name, from, minSecretLen)
	case strings.IndexByte(v, 0) >= 0:
		return sec, fmt.Errorf("credential %q: %s: the secret contains a NUL byte, which no environment variable can hold", s.Name, from)
	}
	sec.value = v
	return sec, nil
}

// lookupEnv finds name in environ. Windows compares variable names without
// case; the first entry wins, as os.Getenv does.
func lookupEnv(name string, environ []string) (string, error) {
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && (k == name || runtime.GOOS == "windows" && strings.EqualFold(k, name)) {
			if len(v) > maxSecretLen {
				return "", fmt.Errorf("the variable is longer than %d bytes, which is no credential", maxSecretLen)
			}
			return v, nil
		}
	}
	return "", errors.New("the variable is not set in cordon's environment; set it where cordon starts (not inside the sandbox), or use from_file")
}
