package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"sb/exitcode"
	"sb/starlarkapi"
)

// host carries out a hook's commands for one benchmark.
type host struct {
	r *Runner
	b *Benchmark
}

func (h *host) Run(ctx context.Context, req starlarkapi.RunRequest) (res starlarkapi.RunResult, err error) {
	if req.Local || h.r.opts.Local {
		res, err = h.runLocal(ctx, req)
	} else {
		res, err = h.runInContainer(ctx, req)
	}
	if err == nil && res.ExitCode != 0 {
		h.r.sys.Log.Warn().Int("status", res.ExitCode).Msgf("command `%s` failed", req.Cmd)
	}
	return res, err
}

func (h *host) Build(ctx context.Context, req starlarkapi.BuildRequest) error {
	return h.buildImage(ctx, req)
}

// runLocal runs the command with the host's shell in the benchmark
// directory, streaming and capturing its combined output. The command gets
// its own process group so that Ctrl-C or a timeout stops everything it
// started, not only the shell.
func (h *host) runLocal(ctx context.Context, req starlarkapi.RunRequest) (starlarkapi.RunResult, error) {
	runCtx := ctx
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	h.r.sys.Log.Debug().Str("cmd", req.Cmd).Msg("spec.run on the host")
	cmd := exec.CommandContext(runCtx, req.Shell, "-c", req.Cmd)
	cmd.Dir = h.b.Script.Dir
	cmd.Env = os.Environ()
	for k, v := range req.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	stream := newLineWriter(h.r.sys, req.Cmd)
	w := io.MultiWriter(&out, stream)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	stream.Flush()
	res := starlarkapi.RunResult{Output: out.String()}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if runCtx.Err() != nil {
		return res, exitcode.With(fmt.Errorf("command `%s` timed out after %s and was stopped", req.Cmd, req.Timeout), exitcode.BenchmarkFailed)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		return res, exitcode.With(fmt.Errorf("cannot run `%s` with %s: %w", req.Cmd, req.Shell, err), exitcode.Infrastructure)
	}
	return res, nil
}
