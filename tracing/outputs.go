package tracing

import (
	"os"
	"path/filepath"

	"sb/internal/atomicfile"
)

// Output file names of a latency breakdown, written beside the input.
const (
	BreakdownFile = "trace_breakdown.csv"
	InvalidFile   = "invalid_traces.csv"
)

// Outputs are the two CSV files of a breakdown. They are written under
// temporary names and appear whole, together, on Commit; an analysis that
// fails leaves earlier files as they were.
type Outputs struct {
	BreakdownPath, InvalidPath string
	// Replaced tells whether Commit replaces files of an earlier analysis.
	Replaced           bool
	Breakdown, Invalid *atomicfile.File
}

// CreateOutputs starts the CSV files for input, in dir (the input's
// directory when empty).
func CreateOutputs(input, dir string) (*Outputs, error) {
	if dir == "" {
		dir = filepath.Dir(input)
	}
	o := &Outputs{BreakdownPath: filepath.Join(dir, BreakdownFile), InvalidPath: filepath.Join(dir, InvalidFile)}
	for _, p := range []string{o.BreakdownPath, o.InvalidPath} {
		if _, err := os.Stat(p); err == nil {
			o.Replaced = true
		}
	}
	var err error
	if o.Breakdown, err = atomicfile.Create(o.BreakdownPath); err != nil {
		return nil, err
	}
	if o.Invalid, err = atomicfile.Create(o.InvalidPath); err != nil {
		o.Breakdown.Abort()
		return nil, err
	}
	return o, nil
}

// Commit puts both files in place.
func (o *Outputs) Commit() error {
	if err := o.Breakdown.Commit(); err != nil {
		o.Invalid.Abort()
		return err
	}
	return o.Invalid.Commit()
}

// Abort drops what has not been committed; safe to defer.
func (o *Outputs) Abort() {
	o.Breakdown.Abort()
	o.Invalid.Abort()
}
