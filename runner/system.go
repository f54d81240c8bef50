// Package runner owns the benchmark lifecycle: finding the benchmark file,
// the persistent state in .sb/config.yml with its event log, the logs
// directories of invocations, the prepare/invoke/cleanup/test commands and
// their chaining. It drives starlarkapi (the script) and implements the Host
// that carries out the script's commands.
package runner

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.starlark.net/starlark"
	"gopkg.in/yaml.v3"

	"sb/dockerenv"
	"sb/exitcode"
	"sb/starlarkapi"
)

// System holds every handle on the outside world that the runner uses, so
// that tests can replace them and nothing reaches for globals.
type System struct {
	Stdin  io.Reader
	Stdout io.Writer // results a user may pipe: status, validate, version
	Stderr io.Writer // logs, streamed command output, progress
	Log    zerolog.Logger
	// JSONLogs sends streamed command output through Log as JSON events
	// instead of writing prefixed lines to Stderr.
	JSONLogs bool
	// Terminal tells whether Stderr is a terminal (progress displays).
	Terminal bool
	Getenv   func(string) string
	Now      func() time.Time
	// Cwd is the directory sb was started in; relative paths given on the
	// command line are resolved against it.
	Cwd string
	// Engine is the Docker engine, connected on first use (nil until then).
	Engine *dockerenv.Engine
}

// NewSystem returns the System of the running process.
func NewSystem(log zerolog.Logger, jsonLogs, terminal bool) *System {
	cwd, _ := os.Getwd()
	return &System{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Log: log, JSONLogs: jsonLogs, Terminal: terminal,
		Getenv: os.Getenv, Now: time.Now, Cwd: cwd,
	}
}

// Options are the global flags that shape a run.
type Options struct {
	// File is the --file flag: a path, a directory or a glob.
	File string
	// Example names a ready-made benchmark (--benchmarks) to run instead,
	// in the version for Cloud (--cloud).
	Example, Cloud string
	// Local runs every spec.run on the host instead of in a container.
	Local bool
	// Seed seeds the script's random module when set.
	Seed *int64
	// Set overrides benchmark attributes (--set key=value), over the
	// static BENCHMARK_CONFIG and the stored state.
	Set []Override
	// DryRun runs the hooks but records the commands they ask for instead
	// of executing them, and changes no file.
	DryRun bool
}

// lineWriter streams a command's output line by line: prefixed with the
// command's label on a console, one log event per line in JSON mode.
type lineWriter struct {
	sys   *System
	label string
	buf   []byte
}

func newLineWriter(sys *System, cmd string) *lineWriter {
	label := strings.TrimSpace(strings.SplitN(cmd, "\n", 2)[0])
	if len(label) > 24 {
		label = label[:21] + "..."
	}
	return &lineWriter{sys: sys, label: label}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// Flush emits a last line that had no newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *lineWriter) emit(line string) {
	line = strings.TrimSuffix(line, "\r")
	if w.sys.JSONLogs {
		w.sys.Log.Info().Str("cmd", w.label).Msg(line)
		return
	}
	io.WriteString(w.sys.Stderr, "  ["+w.label+"] "+line+"\n")
}

// Override is one --set key=value.
type Override struct {
	Key   string
	Value starlark.Value
}

// ParseOverride reads key=value; the value is read as a YAML scalar, so
// numbers and booleans keep their type (quote it to force a string).
func ParseOverride(s string) (Override, error) {
	key, value, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return Override{}, exitcode.With(fmt.Errorf("--set %q: write key=value", s), exitcode.BadInput)
	}
	if key == starlarkapi.ReservedKey {
		return Override{}, exitcode.With(fmt.Errorf("--set: %s is sb's own event log", key), exitcode.BadInput)
	}
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(value), &node); err != nil || value == "" {
		return Override{Key: key, Value: starlark.String(value)}, nil
	}
	v, err := starlarkapi.DecodeYAML(&node)
	if err != nil {
		return Override{Key: key, Value: starlark.String(value)}, nil
	}
	return Override{Key: key, Value: v}, nil
}
