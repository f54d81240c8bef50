package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"sb/dockerenv"
	"sb/exitcode"
	"sb/loadgen"
	"sb/starlarkapi"
)

// DefaultWorkloadScript is the k6 script spec.run_k6 runs unless configured.
const DefaultWorkloadScript = "workload_script.js"

// workloadScript is the script to run: spec.run_k6's script=, else the
// benchmark's workload_script attribute, else workload_script.js.
func (b *Benchmark) workloadScript(override string) string {
	if override != "" {
		return override
	}
	if s := b.State.Attr("workload_script"); s != "" {
		return s
	}
	return DefaultWorkloadScript
}

// RunK6 runs the workload script with the current workload_options.json,
// writing k6_metrics.csv and k6_summary.json into the current logs
// directory, then prints a short summary of the run.
func (h *host) RunK6(ctx context.Context, req starlarkapi.K6Request) error {
	b := h.b
	logs := b.LogsDir()
	if logs == "" {
		return exitcode.With(errors.New("spec.run_k6 needs a logs directory: call it from invoke (sb invoke writes the workload options first)"), exitcode.ScriptError)
	}
	script := b.workloadScript(req.Script)
	if _, err := os.Stat(filepath.Join(b.Script.Dir, script)); err != nil {
		return exitcode.With(fmt.Errorf("no workload script at %s: write one, or point workload_script (BENCHMARK_CONFIG) or spec.run_k6(script=...) at it", filepath.Join(b.Script.Dir, script)), exitcode.ScriptError)
	}
	options := b.workloadOptionsPath()
	rel := func(p string) string {
		if r, err := filepath.Rel(b.Script.Dir, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	run := loadgen.K6Run{
		Dir: b.Script.Dir, Script: script, OptionsFile: rel(options), LogsDir: rel(logs),
		Envs: req.Envs, ExtraArgs: req.Options, Stdout: h.r.sys.Stderr, Stderr: h.r.sys.Stderr,
	}
	h.r.sys.Log.Info().Str("script", script).Str("logs", rel(logs)).Msg("running k6")
	var err error
	if req.Image != "" {
		err = h.runK6InImage(ctx, req.Image, run)
	} else {
		if run.Exe, err = selfExecutable(); err != nil {
			return exitcode.With(fmt.Errorf("cannot find the sb binary to run k6: %w", err), exitcode.Infrastructure)
		}
		err = loadgen.RunK6(ctx, run)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	h.summarize(logs, options)
	var k6Err *loadgen.K6ExitError
	if errors.As(err, &k6Err) {
		return exitcode.With(fmt.Errorf("k6 %w", err), exitcode.BenchmarkFailed)
	}
	return exitcode.With(err, exitcode.Infrastructure)
}

// selfExecutable is the sb binary that runs `sb k6`: the program as it was
// invoked (so a wrapper or link named sb keeps working), else the running
// executable.
func selfExecutable() (string, error) {
	arg0 := os.Args[0]
	if strings.ContainsRune(arg0, os.PathSeparator) {
		return filepath.Abs(arg0)
	}
	if p, err := exec.LookPath(arg0); err == nil {
		return filepath.Abs(p)
	}
	return os.Executable()
}

// runK6InImage runs the same k6 command in a container of image, with the
// benchmark mounted as spec.run mounts it (ServiBench's way).
func (h *host) runK6InImage(ctx context.Context, image string, run loadgen.K6Run) error {
	args, err := loadgen.K6Args(run)
	if err != nil {
		return err
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	res, err := h.runInContainer(ctx, starlarkapi.RunRequest{Cmd: "k6 " + strings.Join(quoted, " "), Image: image, Shell: dockerenv.DefaultShell})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &loadgen.K6ExitError{Code: res.ExitCode}
	}
	return nil
}

// summarize prints requests, failures, latency percentiles and achieved vs
// scheduled arrivals, loudly warning about dropped iterations.
func (h *host) summarize(logs, optionsPath string) {
	options, _ := os.ReadFile(optionsPath)
	s, err := loadgen.ReadSummary(logs, options)
	if err != nil {
		h.r.sys.Log.Warn().Err(err).Msg("no k6 summary")
		return
	}
	if err := s.Write(h.r.sys.Stderr); err != nil {
		h.r.sys.Log.Warn().Err(err).Msg("writing the k6 summary")
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
