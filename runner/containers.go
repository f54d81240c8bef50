package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.starlark.net/starlark"

	"sb/creds"
	"sb/dockerenv"
	"sb/exitcode"
	"sb/starlarkapi"
)

// engine connects to the Docker engine on first use, so that commands that
// need none (validate, status, local runs) work without one.
func (r *Runner) engine(ctx context.Context) (*dockerenv.Engine, error) {
	if r.sys.Engine != nil {
		return r.sys.Engine, nil
	}
	e, err := dockerenv.Connect(ctx)
	if err != nil {
		return nil, exitcode.With(err, exitcode.Infrastructure)
	}
	r.sys.Engine = e
	return e, nil
}

// workspace is what spec.run and sb shell mount: the root directory at
// /apps/<root name>, the benchmark directory as working directory, and the
// credential volumes of every declared provider.
func (b *Benchmark) workspace() (dockerenv.Workspace, error) {
	root := b.Script.Dir
	if rel := b.State.Attr("root"); rel != "" {
		root = filepath.Clean(filepath.Join(b.Script.Dir, rel))
	}
	ws, err := dockerenv.AppWorkspace(root, b.Script.Dir)
	if err != nil {
		return ws, exitcode.With(err, exitcode.ScriptError)
	}
	providers, err := b.providers()
	if err != nil {
		return ws, err
	}
	// provider: local runs everything here and has no credentials.
	providers = slices.DeleteFunc(providers, func(p string) bool { return p == "local" })
	if ws.Volumes, err = creds.Mounts(providers); err != nil {
		return ws, exitcode.With(fmt.Errorf("provider in BENCHMARK_CONFIG: %w", err), exitcode.ScriptError)
	}
	return ws, nil
}

// providers reads `provider:`, a string or a list of strings.
func (b *Benchmark) providers() ([]string, error) {
	v, found, _ := b.State.Values.Get(starlark.String("provider"))
	if !found || v == starlark.None {
		return nil, nil
	}
	switch v := v.(type) {
	case starlark.String:
		return []string{string(v)}, nil
	case *starlark.List:
		out := make([]string, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			s, ok := v.Index(i).(starlark.String)
			if !ok {
				return nil, exitcode.With(fmt.Errorf("provider must be a name or a list of names, found %s", v.Index(i)), exitcode.ScriptError)
			}
			out = append(out, string(s))
		}
		return out, nil
	}
	return nil, exitcode.With(fmt.Errorf("provider must be a name or a list of names, not a %s", v.Type()), exitcode.ScriptError)
}

// images reads the benchmark's `images:` overrides of the alias table.
func (b *Benchmark) images() map[string]string {
	v, found, _ := b.State.Values.Get(starlark.String("images"))
	d, ok := v.(*starlark.Dict)
	if !found || !ok {
		return nil
	}
	out := make(map[string]string, d.Len())
	for _, item := range d.Items() {
		k, kok := item[0].(starlark.String)
		val, vok := item[1].(starlark.String)
		if kok && vok {
			out[string(k)] = string(val)
		}
	}
	return out
}

func (h *host) runInContainer(ctx context.Context, req starlarkapi.RunRequest) (starlarkapi.RunResult, error) {
	ws, err := h.b.workspace()
	if err != nil {
		return starlarkapi.RunResult{}, err
	}
	e, err := h.r.engine(ctx)
	if err != nil {
		return starlarkapi.RunResult{}, err
	}
	image := dockerenv.ResolveImage(req.Image, h.b.images())
	h.r.sys.Log.Debug().Str("image", image).Str("cmd", req.Cmd).Msg("spec.run")
	stream := newLineWriter(h.r.sys, req.Cmd)
	res, err := e.Run(ctx, dockerenv.RunOptions{
		Image: image, Shell: req.Shell, Command: req.Cmd, Workspace: ws, Env: req.Env,
		Timeout: req.Timeout, Benchmark: h.b.Script.Name,
		Output: stream, PullOutput: h.r.sys.Stderr,
	})
	stream.Flush()
	var timeout *dockerenv.TimeoutError
	switch {
	case err == nil:
		return starlarkapi.RunResult{Output: res.Output, ExitCode: res.ExitCode}, nil
	case ctx.Err() != nil:
		return starlarkapi.RunResult{}, ctx.Err()
	case errors.As(err, &timeout):
		return starlarkapi.RunResult{Output: timeout.Output}, exitcode.With(fmt.Errorf("command `%s` timed out after %s and was stopped", req.Cmd, req.Timeout), exitcode.BenchmarkFailed)
	}
	return starlarkapi.RunResult{}, exitcode.With(fmt.Errorf("spec.run in %s: %w", image, err), exitcode.Infrastructure)
}

func (h *host) buildImage(ctx context.Context, req starlarkapi.BuildRequest) error {
	e, err := h.r.engine(ctx)
	if err != nil {
		return err
	}
	contextDir := filepath.Join(h.b.Script.Dir, req.Context)
	h.r.sys.Log.Info().Str("tag", req.Tag).Str("file", req.File).Msg("building image")
	stream := newLineWriter(h.r.sys, "build "+req.Tag)
	_, err = e.Build(ctx, dockerenv.BuildOptions{Tag: req.Tag, Dockerfile: req.File, ContextDir: contextDir, BuildArgs: req.BuildArgs, Output: stream})
	stream.Flush()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var be *dockerenv.BuildError
		if errors.As(err, &be) {
			return exitcode.With(err, exitcode.BenchmarkFailed)
		}
		return exitcode.With(fmt.Errorf("spec.build %s: %w", req.Tag, err), exitcode.Infrastructure)
	}
	return nil
}

// Shell opens an interactive shell in image (an alias or a reference; the
// default alias when empty) with exactly the mounts and working directory
// spec.run would use.
func (r *Runner) Shell(ctx context.Context, image, shell string) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	ws, err := b.workspace()
	if err != nil {
		return err
	}
	e, err := r.engine(ctx)
	if err != nil {
		return err
	}
	ref := dockerenv.ResolveImage(image, b.images())
	r.sys.Log.Info().Str("image", ref).Str("dir", ws.WorkDir).Msg("starting shell")
	code, err := e.Shell(ctx, dockerenv.ShellOptions{Image: ref, Shell: shell, Workspace: ws, Benchmark: b.Script.Name, Stdin: r.sys.Stdin, Stdout: r.sys.Stdout, PullOutput: r.sys.Stderr})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return exitcode.With(fmt.Errorf("sb shell in %s: %w", ref, err), exitcode.Infrastructure)
	}
	if code != 0 {
		return exitcode.With(fmt.Errorf("the shell exited with status %d", code), exitcode.BenchmarkFailed)
	}
	return nil
}

// Init builds the serverless-benchmarker:<version> image holding this sb
// binary, so sb can run in a container on a load-generator host.
func (r *Runner) Init(ctx context.Context, version, base string) error {
	e, err := r.engine(ctx)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return exitcode.With(fmt.Errorf("cannot find the sb binary: %w", err), exitcode.Infrastructure)
	}
	stream := newLineWriter(r.sys, "init")
	tag, err := e.BuildSBImage(ctx, version, base, exe, stream)
	stream.Flush()
	if err != nil {
		return exitcode.With(fmt.Errorf("sb init: %w", err), exitcode.Infrastructure)
	}
	fmt.Fprintf(r.sys.Stdout, "built %s\n", tag)
	return nil
}

// providerEngine looks the provider up and connects to the engine holding
// its credentials volume.
func (r *Runner) providerEngine(ctx context.Context, name string) (creds.Provider, *dockerenv.Engine, error) {
	p, err := creds.Lookup(name)
	if err != nil {
		return p, nil, exitcode.With(err, exitcode.BadInput)
	}
	e, err := r.engine(ctx)
	return p, e, err
}

// Login stores credentials for a provider in its <provider>-secrets volume.
func (r *Runner) Login(ctx context.Context, provider string, prompt bool) error {
	p, e, err := r.providerEngine(ctx, provider)
	if err != nil {
		return err
	}
	if err := creds.Login(ctx, e, p, prompt, creds.Stdio{In: r.sys.Stdin, Out: r.sys.Stdout}); err != nil {
		return exitcode.With(fmt.Errorf("sb login %s: %w", provider, err), exitcode.Infrastructure)
	}
	return nil
}

// Logout removes a provider's credentials volume.
func (r *Runner) Logout(ctx context.Context, provider string) error {
	p, e, err := r.providerEngine(ctx, provider)
	if err != nil {
		return err
	}
	_, err = creds.Logout(ctx, e, p, r.sys.Stdout)
	return exitcode.With(err, exitcode.Infrastructure)
}

// CheckCredentials runs the provider's identity call with the stored credentials.
func (r *Runner) CheckCredentials(ctx context.Context, provider string) error {
	p, e, err := r.providerEngine(ctx, provider)
	if err != nil {
		return err
	}
	if err := creds.CheckCredentials(ctx, e, p, r.sys.Stdout); err != nil {
		if errors.Is(err, creds.ErrNoCredentials) {
			return exitcode.With(err, exitcode.BadInput)
		}
		return exitcode.With(fmt.Errorf("sb check_credentials %s: %w", provider, err), exitcode.BenchmarkFailed)
	}
	return nil
}

// Serve starts a long-running container of the benchmark (a local
// application, an emulator, a database) with spec.run's mounts.
func (h *host) Serve(ctx context.Context, req starlarkapi.ServeRequest) (starlarkapi.ServeResult, error) {
	ws, err := h.b.workspace()
	if err != nil {
		return starlarkapi.ServeResult{}, err
	}
	ws.WorkDir = "" // a service keeps its image's working directory
	e, err := h.r.engine(ctx)
	if err != nil {
		return starlarkapi.ServeResult{}, err
	}
	image := dockerenv.ResolveImage(req.Image, h.b.images())
	svc, err := e.Serve(ctx, dockerenv.ServeOptions{
		Image: image, Name: req.Name, Ports: req.Ports, Env: req.Env, Cmd: req.Cmd,
		Workspace: ws, Benchmark: h.b.Script.Name, PullOutput: h.r.sys.Stderr,
	})
	if err != nil {
		if ctx.Err() != nil {
			return starlarkapi.ServeResult{}, ctx.Err()
		}
		return starlarkapi.ServeResult{}, exitcode.With(fmt.Errorf("spec.serve %s: %w", req.Name, err), exitcode.BenchmarkFailed)
	}
	h.r.sys.Log.Info().Str("service", svc.Name).Str("image", image).Interface("ports", svc.Ports).Msg("service started")
	return starlarkapi.ServeResult{Name: svc.Name, Ports: svc.Ports}, nil
}

func (h *host) Logs(ctx context.Context, name string, since time.Time) (string, error) {
	e, err := h.r.engine(ctx)
	if err != nil {
		return "", err
	}
	out, err := e.Logs(ctx, name, since)
	return out, exitcode.With(err, exitcode.BenchmarkFailed)
}

func (h *host) Stop(ctx context.Context, name string) error {
	e, err := h.r.engine(ctx)
	if err != nil {
		return err
	}
	if err := e.Stop(ctx, name); err != nil {
		return exitcode.With(fmt.Errorf("spec.stop %s: %w", name, err), exitcode.BenchmarkFailed)
	}
	h.r.sys.Log.Info().Str("service", name).Msg("service stopped")
	return nil
}

func (h *host) RemoveImage(ctx context.Context, ref string) error {
	e, err := h.r.engine(ctx)
	if err != nil {
		return err
	}
	if err := e.RemoveImage(ctx, ref); err != nil {
		return exitcode.With(fmt.Errorf("spec.remove_image %s: %w", ref, err), exitcode.BenchmarkFailed)
	}
	return nil
}
