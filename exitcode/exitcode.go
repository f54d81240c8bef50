// Package exitcode owns the mapping from what went wrong to sb's process
// exit status, so that scripts driving sb can tell a broken benchmark script,
// a broken environment and a failed benchmark run apart.
//
// Errors are classified where they arise (With) and read once, at the CLI
// edge (Of). The first classification on an error chain wins, so a deeper,
// more specific cause is never overridden by a generic wrapper.
package exitcode

import (
	"context"
	"errors"
)

// Code is a process exit status of sb.
type Code int

const (
	// OK: everything asked for was done.
	OK Code = 0
	// BenchmarkFailed: the benchmark ran but one of its steps failed, e.g. a
	// spec.run command exited non-zero in prepare.
	BenchmarkFailed Code = 1
	// BadInput: the command line, a file given to sb or sb's own state file is
	// not usable (unknown command or flag, missing benchmark file, corrupt
	// .sb/config.yml, unknown workload).
	BadInput Code = 2
	// ScriptError: the benchmark script itself is wrong (syntax error, missing
	// hook, bad BENCHMARK_CONFIG, a Starlark runtime error or fail()).
	ScriptError Code = 3
	// Infrastructure: something sb depends on is unavailable (Docker engine,
	// file system, network).
	Infrastructure Code = 4
	// Interrupted: the user pressed Ctrl-C or sb received SIGTERM.
	Interrupted Code = 130
)

type codedError struct {
	err  error
	code Code
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// With marks err with code unless something on its chain is already marked.
// It returns nil for a nil error.
func With(err error, code Code) error {
	if err == nil {
		return nil
	}
	var c *codedError
	if errors.As(err, &c) {
		return err
	}
	return &codedError{err: err, code: code}
}

// Of returns the exit status for err: OK for nil, Interrupted for a cancelled
// context (whatever else is on the chain), the first code found on the chain,
// and BenchmarkFailed otherwise.
func Of(err error) Code {
	if err == nil {
		return OK
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	var c *codedError
	if errors.As(err, &c) {
		return c.code
	}
	return BenchmarkFailed
}
