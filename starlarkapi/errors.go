package starlarkapi

import (
	"errors"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// ScriptError is a failure inside a benchmark script, carrying what the user
// needs to find it: for runtime errors the Starlark backtrace with
// file:line:column of every frame, for syntax and resolve errors the
// position. Every error leaving this package from Starlark code passes
// through scriptError, the one place that formats them.
type ScriptError struct {
	// Message is the full text shown to the user (possibly several lines).
	Message string
	err     error
}

func (e *ScriptError) Error() string { return e.Message }
func (e *ScriptError) Unwrap() error { return e.err }

// scriptError converts an error from the Starlark interpreter into a
// ScriptError. Errors that are not Starlark's pass through unchanged.
func scriptError(err error) error {
	if err == nil {
		return nil
	}
	var se *ScriptError
	if errors.As(err, &se) {
		return err
	}
	var evalErr *starlark.EvalError
	if errors.As(err, &evalErr) {
		bt := evalErr.Backtrace()
		// A failing load() reports the loaded file's own backtrace as its
		// message; keep both but avoid a doubled "Error:" prefix.
		return &ScriptError{Message: strings.TrimRight(bt, "\n"), err: err}
	}
	var synErr syntax.Error
	if errors.As(err, &synErr) {
		return &ScriptError{Message: synErr.Error(), err: err}
	}
	var resErrs resolve.ErrorList
	if errors.As(err, &resErrs) {
		lines := make([]string, len(resErrs))
		for i, e := range resErrs {
			lines[i] = e.Error()
		}
		return &ScriptError{Message: strings.Join(lines, "\n"), err: err}
	}
	return err
}
