package unixplan

import (
	"slices"
	"testing"

	"github.com/cordon-sandbox/cordon/policy"
)

func TestRlimits(t *testing.T) {
	res := Resources{Core: 4, Nproc: 7, Nofile: 8, Fsize: 1}
	var l policy.Limits
	l.MaxProcesses.Value = 100 // the caller decides what nproc is
	l.OpenFiles.Value = 64
	got := Rlimits(res, l, 512)
	want := []Rlimit{{Resource: 4, Name: "core"}, {Resource: 7, Name: "max_processes", Value: 512}, {Resource: 8, Name: "open_files", Value: 64}}
	if !slices.Equal(got, want) {
		t.Errorf("Rlimits = %+v, want %+v", got, want)
	}
	if got := RlimitText(got); got != "core=0 max_processes=512 open_files=64" {
		t.Errorf("RlimitText = %q", got)
	}
	l.FileSize.Value = 1 << 20
	if got := Rlimits(res, l, 0); !slices.Equal(got, []Rlimit{{Resource: 4, Name: "core"}, {Resource: 8, Name: "open_files", Value: 64}, {Resource: 1, Name: "file_size", Value: 1 << 20}}) {
		t.Errorf("nproc 0 must set no process limit: %+v", got)
	}
}
