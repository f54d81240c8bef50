package dockerenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/pkg/stdcopy"
)

// DefaultShell runs spec.run's command when no shell is given.
const DefaultShell = "/bin/sh"

// rootUser is numeric so that images without /etc/passwd (FROM scratch)
// accept it. Containers run as root, as ServiBench did with `-u root`: that
// lets any image write into the bind-mounted directory whatever its USER, and
// lets provider CLIs read their credentials under /root. Ownership of the
// files they leave behind is handed back to the invoking user afterwards
// (see fixOwnership).
const rootUser = "0:0"

// VolumeMount mounts the named volume Volume at Target in the container.
type VolumeMount struct {
	Volume string // e.g. "aws-secrets"
	Target string // e.g. "/root/.aws"
}

// Workspace is what a container sees of the host: one bind-mounted
// directory, a working directory, and named volumes. Run and Shell use it
// identically so that sb shell reproduces spec.run's environment exactly.
type Workspace struct {
	HostDir   string        // absolute host directory to bind-mount; "" mounts nothing
	MountPath string        // where HostDir appears in the container, e.g. /apps/myapp
	WorkDir   string        // working directory in the container; "" keeps the image's
	Volumes   []VolumeMount // named volumes, e.g. provider credentials
}

// AppWorkspace returns the workspace spec.run uses for a benchmark in
// benchDir whose root directory (benchDir itself, or the ancestor `root:`
// names) is rootDir: rootDir is mounted at /apps/<base of rootDir> and the
// working directory is the benchmark directory below it. Volumes are left
// for the caller (see creds.Mounts).
func AppWorkspace(rootDir, benchDir string) (Workspace, error) {
	root, err := filepath.Abs(rootDir)
	if err != nil {
		return Workspace{}, fmt.Errorf("resolving root directory %s: %w", rootDir, err)
	}
	bench, err := filepath.Abs(benchDir)
	if err != nil {
		return Workspace{}, fmt.Errorf("resolving benchmark directory %s: %w", benchDir, err)
	}
	rel, err := filepath.Rel(root, bench)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return Workspace{}, fmt.Errorf("benchmark directory %s is not inside its root %s; fix `root:` in BENCHMARK_CONFIG", bench, root)
	}
	name := filepath.Base(root)
	if name == string(filepath.Separator) || name == "." {
		return Workspace{}, fmt.Errorf("root directory %s cannot be mounted as /apps/<name>; choose a `root:` below /", root)
	}
	mountPath := path.Join("/apps", name)
	return Workspace{
		HostDir:   root,
		MountPath: mountPath,
		WorkDir:   path.Join(mountPath, filepath.ToSlash(rel)),
	}, nil
}

// RunOptions describes one spec.run call.
type RunOptions struct {
	Image     string            // image reference (resolve aliases with ResolveImage first)
	Shell     string            // shell running Command; DefaultShell when empty
	Command   string            // passed to `Shell -c` unchanged
	Workspace Workspace         // mounts and working directory
	Env       map[string]string // environment, passed verbatim
	Timeout   time.Duration     // 0: no limit; else the container is killed and removed after it
	Benchmark string            // value of the sb.benchmark label (find leftovers by benchmark)
	Labels    map[string]string // extra container labels

	// Output receives the command's combined stdout and stderr live, every
	// line starting with Prefix (so a reader sees which command prints).
	// nil: output is only returned.
	Output io.Writer
	Prefix string
	// PullOutput receives pull progress when the image is missing; nil
	// means os.Stderr. Pull progress never reaches Output or the result.
	PullOutput io.Writer
}

// RunResult is the outcome of a command that ran to its end.
type RunResult struct {
	Output   string // combined stdout and stderr, without prefixes or pull progress
	ExitCode int
	Duration time.Duration // from container start to exit
}

// TimeoutError is returned by Run when the command outlived RunOptions.Timeout.
type TimeoutError struct {
	Command string
	Timeout time.Duration
	Output  string // what the command printed before it was killed
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("command %q did not finish within %s; its container was killed and removed (raise timeout= if it needs longer)", e.Command, e.Timeout)
}

// Run runs o.Command in a fresh container of o.Image, as `Shell -c Command`
// with the image's entrypoint cleared, and removes the container afterwards
// whatever happens. A non-zero exit status is not an error: it is in
// RunResult.ExitCode for the caller to judge. Errors are engine failures, a
// failed pull, a timeout (*TimeoutError) and ctx ending (Ctrl-C, SIGTERM),
// after which the container has been killed and removed.
func (e *Engine) Run(ctx context.Context, o RunOptions) (RunResult, error) {
	shell := o.Shell
	if shell == "" {
		shell = DefaultShell
	}
	cfg := e.containerConfig(o.Image, []string{shell, "-c", o.Command}, o.Workspace, o.Env, o.Benchmark, o.Labels)
	cfg.AttachStdout, cfg.AttachStderr = true, true

	id, err := e.createContainer(ctx, cfg, hostConfig(o.Workspace), o.PullOutput)
	if err != nil {
		return RunResult{}, err
	}
	remove := sync.OnceFunc(func() { e.removeContainer(ctx, id) })
	defer remove()

	attach, err := e.api.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return RunResult{}, fmt.Errorf("attaching to the container of %q: %w", o.Command, err)
	}
	defer attach.Close()

	var captured bytes.Buffer
	sink := io.Writer(&captured)
	if o.Output != nil {
		sink = io.MultiWriter(&captured, &prefixWriter{w: o.Output, prefix: []byte(o.Prefix)})
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// Both streams go to one writer, so their interleaving is kept.
		_, _ = stdcopy.StdCopy(sink, sink, attach.Reader)
	}()

	// Waiting for "next-exit" before starting cannot miss a fast exit.
	waitCtx, stopWait := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWait()
	exited, waitErr := e.api.ContainerWait(waitCtx, id, container.WaitConditionNextExit)

	since := time.Now()
	if err := e.api.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return RunResult{}, fmt.Errorf("starting the container of %q in %s: %w", o.Command, o.Image, startHint(err))
	}

	var timeout <-chan time.Time
	if o.Timeout > 0 {
		t := time.NewTimer(o.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case res := <-exited:
		<-copied
		out := RunResult{Output: captured.String(), ExitCode: int(res.StatusCode), Duration: time.Since(since)}
		if res.Error != nil && res.Error.Message != "" {
			return out, fmt.Errorf("waiting for %q: %s", o.Command, res.Error.Message)
		}
		remove()
		if err := e.fixOwnership(ctx, o.Image, o.Workspace, since); err != nil {
			return out, err
		}
		return out, nil
	case err := <-waitErr:
		return RunResult{}, fmt.Errorf("waiting for %q: %w", o.Command, err)
	case <-timeout:
		remove()
		<-copied
		return RunResult{}, &TimeoutError{Command: o.Command, Timeout: o.Timeout, Output: captured.String()}
	case <-ctx.Done():
		remove()
		return RunResult{}, fmt.Errorf("command %q interrupted; its container was removed: %w", o.Command, context.Cause(ctx))
	}
}

// containerConfig is the configuration shared by Run and Shell.
func (e *Engine) containerConfig(image string, cmd []string, ws Workspace, env map[string]string, benchmark string, labels map[string]string) *container.Config {
	all := map[string]string{LabelManaged: "true"}
	for k, v := range labels {
		all[k] = v
	}
	if benchmark != "" {
		all[LabelBenchmark] = benchmark
	}
	return &container.Config{
		Image: image,
		User:  rootUser,
		// [""] is how the API clears the image's entrypoint (docker run
		// --entrypoint=""): Cmd then runs as given.
		Entrypoint: []string{""},
		Cmd:        cmd,
		Env:        envList(env),
		WorkingDir: ws.WorkDir,
		Labels:     all,
	}
}

func hostConfig(ws Workspace) *container.HostConfig {
	hc := &container.HostConfig{}
	if ws.HostDir != "" {
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: ws.HostDir, Target: ws.MountPath})
	}
	for _, v := range ws.Volumes {
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: v.Volume, Target: v.Target})
	}
	return hc
}

// envList turns env into KEY=VALUE entries, sorted for reproducibility.
// Values are not touched: no quoting or expansion happens on the way.
func envList(env map[string]string) []string {
	if len(env) == 0 {
		return nil
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// createContainer creates a container, pulling its image first when the
// engine does not have it (as `docker run` does, saving an inspect call per
// run when it does).
func (e *Engine) createContainer(ctx context.Context, cfg *container.Config, hc *container.HostConfig, pullOut io.Writer) (string, error) {
	resp, err := e.api.ContainerCreate(ctx, cfg, hc, nil, nil, "")
	if err != nil && cerrdefs.IsNotFound(err) && isMissingImage(err) {
		if perr := e.Pull(ctx, cfg.Image, pullOut); perr != nil {
			return "", perr
		}
		resp, err = e.api.ContainerCreate(ctx, cfg, hc, nil, nil, "")
	}
	if err != nil {
		return "", fmt.Errorf("creating a container of %s: %w", cfg.Image, err)
	}
	return resp.ID, nil
}

// isMissingImage tells a missing image apart from other not-found answers
// (e.g. a bind-mount source that does not exist).
func isMissingImage(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no such image") || strings.Contains(msg, "not found") && strings.Contains(msg, "image")
}

// startHint adds what to do to the commonest start failure: a shell that
// the image does not have.
func startHint(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") {
		return fmt.Errorf("%w (does the image have that shell? choose another with shell=)", err)
	}
	return err
}

// removeContainer force-removes a container (killing it if still running).
// It runs even when ctx has ended (interrupts must not leave containers
// behind) and is idempotent.
func (e *Engine) removeContainer(ctx context.Context, id string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := e.api.ContainerRemove(rctx, id, container.RemoveOptions{Force: true, RemoveVolumes: false})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		// Conflict: removal already in progress. Anything else is retried
		// once: a container left behind is worse than a slow exit.
		_ = e.api.ContainerRemove(rctx, id, container.RemoveOptions{Force: true})
	}
}

// prefixWriter starts every line written through it with prefix, writing
// partial lines through at once so that output stays live.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	mid    bool // inside a line: the prefix was written already
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.prefix) == 0 {
		return p.w.Write(b)
	}
	out := make([]byte, 0, len(b)+len(p.prefix)*2)
	for rest := b; len(rest) > 0; {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			out = append(out, rest...)
			break
		}
		out = append(out, rest[:i+1]...)
		rest = rest[i+1:]
		p.mid = false
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
