package audit

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Config chooses the sinks. It is the policy's [audit] section
// (docs/audit.md, "Configuration"); start from DefaultConfig, decode the
// policy over it, then call Validate.
type Config struct {
	File   FileConfig   `toml:"file"`
	Stderr StderrConfig `toml:"stderr"`
	OTLP   OTLPConfig   `toml:"otlp"`
}

// FileConfig configures the hash-chained JSON-lines file.
type FileConfig struct {
	Enabled bool `toml:"enabled"`
	// Path of the log; empty means DefaultFilePath.
	Path string `toml:"path"`
	// MaxSizeMB: the log is rotated before it would grow beyond this.
	MaxSizeMB int `toml:"max_size_mb"`
	// Sync is SyncRun (fsync when the logger closes) or SyncEvent (after
	// every event).
	Sync     string `toml:"sync"`
	Required bool   `toml:"required"`
}

// Values of FileConfig.Sync.
const (
	SyncRun   = "run"
	SyncEvent = "event"
)

// StderrConfig configures the human-readable stderr sink.
type StderrConfig struct {
	Enabled bool `toml:"enabled"`
}

// OTLPConfig configures export as OpenTelemetry logs over OTLP/HTTP.
type OTLPConfig struct {
	Enabled bool `toml:"enabled"`
	// Endpoint is the full logs URL; empty means the OTEL_EXPORTER_OTLP_*
	// variables. Without a path, /v1/logs is used.
	Endpoint string `toml:"endpoint"`
	// Headers are sent with every export; empty means the
	// OTEL_EXPORTER_OTLP_*HEADERS variables.
	Headers        map[string]string `toml:"headers"`
	TimeoutSeconds int               `toml:"timeout_seconds"`
	Required       bool              `toml:"required"`
}

// Timeout returns the export timeout.
func (c OTLPConfig) Timeout() time.Duration {
	return time.Duration(c.TimeoutSeconds) * time.Second
}

// DefaultConfig returns the configuration used when the policy has no [audit]
// section: the file sink only, at the default path.
func DefaultConfig() Config {
	return Config{
		File: FileConfig{Enabled: true, MaxSizeMB: 64, Sync: SyncRun},
		OTLP: OTLPConfig{TimeoutSeconds: 10},
	}
}

// Validate checks the configuration without touching the file system or the
// network, and names the offending key in its error.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: "audit." + key, Msg: fmt.Sprintf(format, args...)})
	}
	if c.File.Path != "" && !filepath.IsAbs(c.File.Path) {
		bad("file.path", "%q is not an absolute path; write the full path of the log file", c.File.Path)
	}
	if c.File.MaxSizeMB < 1 {
		bad("file.max_size_mb", "must be at least 1, got %d", c.File.MaxSizeMB)
	}
	if c.File.Sync != SyncRun && c.File.Sync != SyncEvent {
		bad("file.sync", "must be %q or %q, got %q", SyncRun, SyncEvent, c.File.Sync)
	}
	if c.File.Required && !c.File.Enabled {
		bad("file.required", "the file sink is required but not enabled; set enabled = true")
	}
	if c.OTLP.Required && !c.OTLP.Enabled {
		bad("otlp.required", "the OTLP sink is required but not enabled; set enabled = true")
	}
	if c.OTLP.Endpoint != "" {
		u, err := url.Parse(c.OTLP.Endpoint)
		switch {
		case err != nil:
			bad("otlp.endpoint", "%v", err)
		case u.Scheme != "http" && u.Scheme != "https":
			bad("otlp.endpoint", "%q must start with http:// or https://", c.OTLP.Endpoint)
		case u.Host == "":
			bad("otlp.endpoint", "%q has no host", c.OTLP.Endpoint)
		}
	}
	for k := range c.OTLP.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			bad("otlp.headers", "%q is not a valid HTTP header name", k)
		}
	}
	if c.OTLP.TimeoutSeconds < 1 {
		bad("otlp.timeout_seconds", "must be at least 1, got %d", c.OTLP.TimeoutSeconds)
	}
	return errors.Join(errs...)
}

// KeyError is one problem in a Config, about one key of the policy's
// [audit] section, so that the policy can point at that key's line.
// Validate returns KeyErrors, joined when there are several.
type KeyError struct {
	// Key is the dotted key, as "audit.file.path".
	Key string
	// Msg says what is wrong with it.
	Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

// DefaultFilePath returns where the log lives when the policy does not say:
// $XDG_STATE_HOME/cordon/audit.jsonl, else ~/.local/state/cordon/audit.jsonl;
// on Windows %LOCALAPPDATA%\cordon\audit.jsonl.
func DefaultFilePath() (string, error) {
	if runtime.GOOS == "windows" {
		dir := os.Getenv("LOCALAPPDATA")
		if dir == "" {
			return "", errors.New("LOCALAPPDATA is not set; set [audit.file] path in the policy")
		}
		return filepath.Join(dir, "cordon", "audit.jsonl"), nil
	}
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "cordon", "audit.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the audit log (%v); set XDG_STATE_HOME or [audit.file] path", err)
	}
	return filepath.Join(home, ".local", "state", "cordon", "audit.jsonl"), nil
}
