package agenthook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/fsutil"
)

// ClaudeCodeHookCommand is the hook command cordon installs: the cordon
// binary at cordonPath running `hook claude-code` with args, followed by
// `|| exit 2`. Claude Code lets a tool call through when a hook fails with
// any status other than 2; the suffix turns every failure to start cordon
// (binary moved or removed, crash) into a blocked call instead.
func ClaudeCodeHookCommand(cordonPath string, args ...string) string {
	words := []string{ShellQuote(cordonPath), "hook", "claude-code"}
	for _, a := range args {
		words = append(words, ShellQuote(a))
	}
	return strings.Join(words, " ") + " || exit 2"
}

// isCordonHook reports whether a hook command is one cordon installed:
// a program named cordon run as `hook claude-code`.
func isCordonHook(command string) bool {
	w := splitWords(command)
	return len(w) >= 3 && filepath.Base(w[0]) == "cordon" && w[1] == "hook" && w[2] == "claude-code"
}

// InstallResult says what an install or uninstall did.
type InstallResult struct {
	// Changed is false when the file already was as asked.
	Changed bool
	// Notes are things the user should know (a setting that disables
	// hooks, for instance).
	Notes []string
}

// InstallClaudeCode makes the Claude Code settings file at path run
// command as a PreToolUse hook for the Bash tool. An existing cordon entry
// is updated in place; every other key, hook and setting is kept. The file
// and its directory are created if absent.
func InstallClaudeCode(path, command string) (InstallResult, error) {
	return editSettings(path, func(settings *object) ([]string, error) {
		hooks, err := settings.childObject("hooks", `"hooks"`)
		if err != nil {
			return nil, err
		}
		if hooks == nil {
			hooks = newObject()
		}
		groups, _, err := hooks.childArray("PreToolUse", `"hooks.PreToolUse"`)
		if err != nil {
			return nil, err
		}
		found := false
		var kept []json.RawMessage
		for i, g := range groups {
			group, err := parseObject(g)
			if err != nil {
				return nil, fmt.Errorf(`"hooks.PreToolUse[%d]" is not a JSON object`, i)
			}
			handlers, had, err := group.childArray("hooks", fmt.Sprintf(`"hooks.PreToolUse[%d].hooks"`, i))
			if err != nil {
				return nil, err
			}
			var keep []json.RawMessage
			removed := false
			for _, h := range handlers {
				handler, cmd := cordonHandler(h)
				switch {
				case handler == nil:
					keep = append(keep, h)
				case !found && matcherCoversBash(group):
					// Keep the first cordon entry where it is, with
					// whatever else the user set on it, and bring its
					// command up to date.
					found = true
					if cmd != command {
						handler.set("command", mustRaw(command))
					}
					keep = append(keep, mustRaw(handler))
				default:
					removed = true
				}
			}
			if had {
				if removed && len(keep) == 0 {
					continue // the group held only cordon's entry
				}
				if keep == nil {
					keep = []json.RawMessage{}
				}
				group.set("hooks", mustRaw(keep))
			}
			kept = append(kept, mustRaw(group))
		}
		if !found {
			entry := newObject()
			entry.set("matcher", mustRaw(ClaudeCodeBashTool))
			handler := newObject()
			handler.set("type", mustRaw("command"))
			handler.set("command", mustRaw(command))
			entry.set("hooks", mustRaw([]json.RawMessage{mustRaw(handler)}))
			kept = append(kept, mustRaw(entry))
		}
		hooks.set("PreToolUse", mustRaw(kept))
		settings.set("hooks", mustRaw(hooks))
		var notes []string
		if raw, ok := settings.get("disableAllHooks"); ok && bytes.Equal(bytes.TrimSpace(raw), []byte("true")) {
			notes = append(notes, `this file sets "disableAllHooks": true, so Claude Code runs no hooks from it, cordon's included`)
		}
		return notes, nil
	})
}

// UninstallClaudeCode removes cordon's PreToolUse entries from the Claude
// Code settings file at path, and the containers that held nothing else.
// Everything else is kept. A missing file is not an error.
func UninstallClaudeCode(path string) (InstallResult, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return InstallResult{}, nil
	}
	return editSettings(path, func(settings *object) ([]string, error) {
		hooks, err := settings.childObject("hooks", `"hooks"`)
		if err != nil || hooks == nil {
			return nil, err
		}
		groups, had, err := hooks.childArray("PreToolUse", `"hooks.PreToolUse"`)
		if err != nil || !had {
			return nil, err
		}
		var kept []json.RawMessage
		removedAny := false
		for i, g := range groups {
			group, err := parseObject(g)
			if err != nil {
				return nil, fmt.Errorf(`"hooks.PreToolUse[%d]" is not a JSON object`, i)
			}
			handlers, hasHandlers, err := group.childArray("hooks", fmt.Sprintf(`"hooks.PreToolUse[%d].hooks"`, i))
			if err != nil {
				return nil, err
			}
			if !hasHandlers {
				kept = append(kept, g)
				continue
			}
			var keep []json.RawMessage
			removed := false
			for _, h := range handlers {
				if handler, _ := cordonHandler(h); handler != nil {
					removed = true
					continue
				}
				keep = append(keep, h)
			}
			switch {
			case !removed:
				kept = append(kept, g)
			case len(keep) == 0:
				removedAny = true
			default:
				removedAny = true
				group.set("hooks", mustRaw(keep))
				kept = append(kept, mustRaw(group))
			}
		}
		if !removedAny {
			return nil, nil
		}
		if len(kept) == 0 {
			hooks.remove("PreToolUse")
		} else {
			hooks.set("PreToolUse", mustRaw(kept))
		}
		if hooks.len() == 0 {
			settings.remove("hooks")
		} else {
			settings.set("hooks", mustRaw(hooks))
		}
		return nil, nil
	})
}

// cordonHandler returns the handler object and its command when h is a
// command hook that cordon installed.
func cordonHandler(h json.RawMessage) (*object, string) {
	handler, err := parseObject(h)
	if err != nil {
		return nil, ""
	}
	var typ, cmd string
	if raw, ok := handler.get("type"); !ok || json.Unmarshal(raw, &typ) != nil || typ != "command" {
		return nil, ""
	}
	if raw, ok := handler.get("command"); !ok || json.Unmarshal(raw, &cmd) != nil || !isCordonHook(cmd) {
		return nil, ""
	}
	return handler, cmd
}

// matcherCoversBash reports whether a matcher group fires for the Bash
// tool, following the hooks reference: "*", "" or no matcher match every
// tool; a value of letters, digits, _ and | is a list of exact names;
// anything else is a regular expression.
func matcherCoversBash(group *object) bool {
	raw, ok := group.get("matcher")
	if !ok {
		return true
	}
	var m string
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	if m == "" || m == "*" {
		return true
	}
	if strings.Trim(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_|") == "" {
		for _, name := range strings.Split(m, "|") {
			if name == ClaudeCodeBashTool {
				return true
			}
		}
		return false
	}
	re, err := regexp.Compile(m)
	return err == nil && re.MatchString(ClaudeCodeBashTool)
}

// editSettings reads the settings file (absent or empty means {}), applies
// edit, and writes the result back atomically when it changed. A symlinked
// file is edited where it points.
func editSettings(path string, edit func(*object) ([]string, error)) (InstallResult, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	data, err := os.ReadFile(path)
	mode := fs.FileMode(0o644)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data = nil
	case err != nil:
		return InstallResult{}, fmt.Errorf("read %s: %w", path, err)
	default:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	settings := newObject()
	if len(bytes.TrimSpace(data)) > 0 {
		settings, err = parseObject(data)
		if err != nil {
			return InstallResult{}, fmt.Errorf("%s is not a JSON object (%v); fix or move it, cordon will not overwrite it", path, err)
		}
	}
	notes, err := edit(settings)
	if err != nil {
		return InstallResult{}, fmt.Errorf("%s: %w; fix it by hand, cordon will not overwrite it", path, err)
	}
	compact, err := settings.MarshalJSON()
	if err != nil {
		return InstallResult{}, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return InstallResult{}, err
	}
	out.WriteByte('\n')
	if data != nil && sameJSON(data, out.Bytes()) {
		return InstallResult{Notes: notes}, nil
	}
	if err := writeAtomic(path, out.Bytes(), mode); err != nil {
		return InstallResult{}, err
	}
	return InstallResult{Changed: true, Notes: notes}, nil
}

// sameJSON reports whether two JSON texts differ only in whitespace.
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return fsutil.WriteFileAtomic(path, data, mode)
}
