package loadgen

import (
	"testing"

	"sb/internal/shareddata"
)

// servibenchTraces returns the directory holding ServiBench's own workload
// CSVs, skipping the test when it is absent.
func servibenchTraces(t *testing.T) string {
	t.Helper()
	return shareddata.Dir(t, "workloads")
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
