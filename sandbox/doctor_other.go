//go:build !linux && !windows && !darwin

package sandbox

import "runtime"

// Doctor examines this machine. Only Linux is supported so far.
func Doctor(home string) *Diagnosis {
	return &Diagnosis{
		System: runtime.GOOS + " " + runtime.GOARCH,
		Facts: []Fact{{Name: "platform", Detail: ErrUnsupported.Error(),
			Fix: "run cordon on Linux; Windows and macOS backends are being built"}},
	}
}
