package loadgen

import (
	"os"
	"path/filepath"
	"testing"
)

// servibenchTraces returns the directory holding ServiBench's own workload
// CSVs (../shared/testdata/workloads beside the module root), skipping the
// test when it is absent. The files are read in place, never copied.
func servibenchTraces(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	traces := filepath.Join(dir, "..", "shared", "testdata", "workloads")
	if _, err := os.Stat(traces); err != nil {
		t.Skipf("ServiBench workload traces not available at %s: %v", traces, err)
	}
	return traces
}

func defaults(t *testing.T) Options {
	t.Helper()
	t.Setenv(SeedEnv, "")
	o, err := DefaultOptions()
	if err != nil {
		t.Fatal(err)
	}
	return o
}
