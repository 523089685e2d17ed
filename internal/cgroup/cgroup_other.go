//go:build !linux

package cgroup

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"github.com/cordon-sandbox/cordon/internal/report"
)

func unsupported() error {
	return fmt.Errorf("cgroup: control groups are a Linux kernel feature, not available on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Group is a run's cgroups; there are none on this system.
type Group struct{}

// LiveHost fails: cgroups exist only on Linux.
func LiveHost() (Host, error) { return Host{}, unsupported() }

// Probe fails: cgroups exist only on Linux.
func Probe(Limits, Options) (*Plan, error) { return nil, unsupported() }

// Create fails: cgroups exist only on Linux.
func Create(string, Limits, Options) (*Group, error) { return nil, unsupported() }

// Create fails: cgroups exist only on Linux.
func (p *Plan) Create(string) (*Group, error) { return nil, unsupported() }

// RemoveStale fails: cgroups exist only on Linux.
func RemoveStale() ([]string, error) { return nil, unsupported() }

// Name is empty.
func (g *Group) Name() string { return "" }

// Dirs is empty.
func (g *Group) Dirs() []string { return nil }

// Holds reports false.
func (g *Group) Holds() bool { return false }

// Processes says nothing holds the process limit.
func (g *Group) Processes() Outcome {
	return Outcome{Limit: "max_processes", Kind: NotApplied, Reason: unsupported().Error()}
}

// Memory says nothing holds the memory limit.
func (g *Group) Memory() Outcome {
	return Outcome{Limit: "memory", Kind: NotApplied, Reason: unsupported().Error()}
}

// AddTo adds nothing.
func (g *Group) AddTo(*report.Report) {}

// Add fails: cgroups exist only on Linux.
func (g *Group) Add(int) error { return unsupported() }

// CloneInto reports false.
func (g *Group) CloneInto(*syscall.SysProcAttr) bool { return false }

// Procs fails: cgroups exist only on Linux.
func (g *Group) Procs() ([]int, error) { return nil, unsupported() }

// Kill fails: cgroups exist only on Linux.
func (g *Group) Kill() error { return unsupported() }

// Stats is empty.
func (g *Group) Stats() Stats { return Stats{} }

// Close does nothing.
func (g *Group) Close() error { return nil }
