//go:build !linux && !windows && !darwin

package sandbox

import (
	"context"
	"runtime"
)

func run(context.Context, Request) (*Result, error) {
	return nil, &LayerError{Layer: "platform", Err: ErrUnsupported,
		Fix: "cordon enforces its sandbox on Linux today; " + runtime.GOOS + " support is being built"}
}

func explain(Request) (*Plan, error) {
	return nil, &LayerError{Layer: "platform", Err: ErrUnsupported,
		Fix: "cordon enforces its sandbox on Linux today; " + runtime.GOOS + " support is being built"}
}
