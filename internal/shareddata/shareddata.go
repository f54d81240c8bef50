// Package shareddata locates the project's reference data for tests: the
// real X-Ray traces and ServiBench's workload CSVs in ../shared/testdata
// beside the module root. They are read in place, never copied into the
// repository, and tests skip with a message where they are absent.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns ../shared/testdata/<sub> beside the module root, skipping the
// test when it is not there.
func Dir(t testing.TB, sub string) string {
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
			t.Skip("module root not found, so no ../shared/testdata")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "testdata", sub)
	if _, err := os.Stat(data); err != nil {
		t.Skipf("reference data not available at %s (%v): skipping", data, err)
	}
	return data
}
