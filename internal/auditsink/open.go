// Package auditsink builds the audit trail's sinks from the policy's [audit]
// section and returns the Logger that writes to them. The sinks themselves
// live in the subpackages jsonl (the hash-chained file), text (stderr) and
// otlp (OpenTelemetry).
//
// Open fails only on an invalid configuration. A sink that cannot be opened
// (an unwritable directory, no OTLP endpoint) does not fail Open: the Logger
// reports it on stderr and to the other sinks, and Logger.Healthy refuses
// commands if that sink is required.
package auditsink

import (
	"errors"
	"os"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/jsonl"
	"github.com/cordon-sandbox/cordon/internal/auditsink/otlp"
	"github.com/cordon-sandbox/cordon/internal/auditsink/text"
)

// Open validates cfg, opens the enabled sinks (file first, so that the other
// sinks carry its chain fields) and returns a Logger stamping events with
// ids. Sink failures and the stderr sink go to os.Stderr.
func Open(cfg audit.Config, ids audit.IDs) (*audit.Logger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ids.Session == "" || ids.Run == "" {
		return nil, errors.New("audit: the session id and the run id must both be set")
	}
	var outs []audit.Output
	if cfg.File.Enabled {
		outs = append(outs, audit.Output{Sink: openFile(cfg.File), Required: cfg.File.Required})
	}
	if cfg.Stderr.Enabled {
		outs = append(outs, audit.Output{Sink: text.New(os.Stderr, text.UseColor(os.Stderr))})
	}
	if cfg.OTLP.Enabled {
		var sink audit.Sink
		if s, err := otlp.New(cfg.OTLP); err != nil {
			sink = audit.Unavailable("otlp", err)
		} else {
			sink = s
		}
		outs = append(outs, audit.Output{Sink: sink, Required: cfg.OTLP.Required})
	}
	return audit.New(ids, os.Stderr, outs...), nil
}

func openFile(c audit.FileConfig) audit.Sink {
	path := c.Path
	if path == "" {
		var err error
		if path, err = audit.DefaultFilePath(); err != nil {
			return audit.Unavailable("file", err)
		}
	}
	s, err := jsonl.Open(path, jsonl.Options{
		MaxBytes:      int64(c.MaxSizeMB) << 20,
		SyncEachEvent: c.Sync == audit.SyncEvent,
	})
	if err != nil {
		return audit.Unavailable("file", err)
	}
	return s
}
