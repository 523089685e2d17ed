//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package jsonl

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

var errUnsupported = fmt.Errorf("the audit file sink cannot lock files on %s; disable [audit.file] or use another system", runtime.GOOS)

func lockFile(*os.File, time.Duration) (func(), error) { return nil, errUnsupported }

func syncDir(string) error { return errUnsupported }

func openLog(string, bool) (*os.File, error) { return nil, errUnsupported }

func isNoSpace(error) bool { return false }
