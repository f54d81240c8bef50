package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Files a k6 run writes into the logs directory.
const (
	MetricsFile = "k6_metrics.csv"
	SummaryFile = "k6_summary.json"
)

// summaryTrendStats makes k6's exported summary carry p99 next to the
// defaults, so the run summary needs no pass over the metrics CSV.
const summaryTrendStats = "avg,min,med,max,p(90),p(95),p(99)"

// stopGrace is how long k6 gets after an interrupt to stop its VUs and
// write the summary before it is killed.
const stopGrace = 30 * time.Second

// K6Run describes one `k6 run` of a benchmark's workload script.
type K6Run struct {
	Exe         string            // the binary that runs `EXE k6 …` (the sb binary: os.Executable())
	Dir         string            // working directory: the benchmark directory
	Script      string            // workload script, relative to Dir or absolute
	OptionsFile string            // k6 options JSON (workload_options.json)
	LogsDir     string            // where k6_metrics.csv and k6_summary.json go
	Envs        map[string]string // script variables, one --env K=V each (sorted by key)
	ExtraArgs   string            // further k6 run options, split like a shell would
	Stdout      io.Writer         // k6's output; an *os.File terminal keeps k6's live progress
	Stderr      io.Writer
	Environ     []string // the child's process environment; nil inherits sb's
}

// K6Args returns the arguments after `k6` for the run:
//
//	run --config OPTIONS --out csv=LOGS/k6_metrics.csv --summary-export LOGS/k6_summary.json
//	    --summary-trend-stats … [--env K=V …] [extra options] SCRIPT
//
// The paths are used as given, so the same function serves a run inside an
// image once the caller has mapped them to the container's paths.
func K6Args(r K6Run) ([]string, error) {
	if r.Script == "" {
		return nil, errors.New("no workload script given")
	}
	if r.OptionsFile == "" {
		return nil, errors.New("no k6 options file given")
	}
	if r.LogsDir == "" {
		return nil, errors.New("no logs directory given")
	}
	args := []string{
		"run",
		"--config", r.OptionsFile,
		"--out", "csv=" + joinPath(r.LogsDir, MetricsFile),
		"--summary-export", joinPath(r.LogsDir, SummaryFile),
		"--summary-trend-stats", summaryTrendStats,
	}
	keys := make([]string, 0, len(r.Envs))
	for k := range r.Envs {
		if k == "" || strings.Contains(k, "=") {
			return nil, fmt.Errorf("k6 environment variable name %q is not valid", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--env", k+"="+r.Envs[k])
	}
	extra, err := SplitArgs(r.ExtraArgs)
	if err != nil {
		return nil, fmt.Errorf("k6 options %q: %w", r.ExtraArgs, err)
	}
	args = append(args, extra...)
	return append(args, r.Script), nil
}

// joinPath joins with a forward slash when dir already uses them, so
// container paths stay POSIX paths whatever the host.
func joinPath(dir, name string) string {
	if strings.Contains(dir, "/") && !strings.Contains(dir, `\`) {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}

// K6ExitError reports a k6 run that ended with a non-zero exit code (for
// example 99 when thresholds failed).
type K6ExitError struct{ Code int }

func (e *K6ExitError) Error() string {
	return fmt.Sprintf("k6 exited with code %d", e.Code)
}

// RunK6 runs `EXE k6 run …` (see K6Args) as a child process in r.Dir,
// streaming its output, and waits for it. When ctx is cancelled k6 is
// interrupted (as by Ctrl-C, so it stops and still writes its summary) and
// killed if it has not stopped stopGrace later.
func RunK6(ctx context.Context, r K6Run) error {
	script := r.Script
	if !filepath.IsAbs(script) {
		script = filepath.Join(r.Dir, script)
	}
	if st, err := os.Stat(script); err != nil || st.IsDir() {
		abs, _ := filepath.Abs(script)
		return fmt.Errorf("workload script not found: %s (create it, set workload_script in the benchmark config, or pass script=)", abs)
	}
	opts := r.OptionsFile
	if !filepath.IsAbs(opts) {
		opts = filepath.Join(r.Dir, opts)
	}
	if _, err := os.Stat(opts); err != nil {
		abs, _ := filepath.Abs(opts)
		return fmt.Errorf("k6 options file not found: %s (run sb invoke WORKLOAD to write it)", abs)
	}
	if err := os.MkdirAll(r.LogsDir, 0o755); err != nil {
		return fmt.Errorf("creating logs directory: %w", err)
	}
	args, err := K6Args(r)
	if err != nil {
		return err
	}
	exe := r.Exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("finding the sb binary to run k6: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"k6"}, args...)...)
	cmd.Dir = r.Dir
	cmd.Env = r.Environ
	// An *os.File (a terminal) is handed to k6 as is, so k6 sees the TTY
	// and draws its live progress; other writers get k6's plain output.
	cmd.Stdout, cmd.Stderr = r.Stdout, r.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	detach(cmd)
	cmd.Cancel = func() error { return interrupt(cmd.Process) }
	cmd.WaitDelay = stopGrace
	err = cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("k6 run interrupted: %w", ctx.Err())
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return &K6ExitError{Code: exitErr.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("running k6: %w", err)
	}
	return nil
}

// SplitArgs splits a command-line fragment into arguments the way a POSIX
// shell would for plain words: whitespace separates, single quotes keep
// everything literal, double quotes keep spaces and allow \" and \\, and a
// backslash outside quotes escapes the next character. No expansion.
func SplitArgs(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, c := range s {
		switch {
		case escaped:
			cur.WriteRune(c)
			escaped = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case quote == '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				cur.WriteRune(c)
			}
		case c == '\\':
			escaped, inWord = true, true
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if escaped {
		return nil, errors.New("trailing backslash")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
