package dockerenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"golang.org/x/term"
)

// ShellOptions describes an interactive session (sb shell, sb login).
type ShellOptions struct {
	Image     string            // image reference (resolve aliases with ResolveImage first)
	Shell     string            // shell to start; DefaultShell when empty
	Command   []string          // runs instead of Shell when set (e.g. ["aws", "configure"])
	Workspace Workspace         // exactly what Run would mount
	Env       map[string]string // environment, passed verbatim
	Benchmark string            // value of the sb.benchmark label
	Labels    map[string]string // extra container labels

	Stdin  io.Reader // nil: no input
	Stdout io.Writer // receives stdout and stderr; nil: os.Stdout
	// PullOutput receives pull progress; nil means os.Stderr.
	PullOutput io.Writer
}

// Shell runs an interactive session in a fresh container with the same
// user, mounts and working directory as Run, and returns its exit code.
// When Stdin and Stdout are terminals the session gets a TTY: the local
// terminal is put in raw mode (restored on return) and window size changes
// are forwarded. Otherwise stdin is piped in as with `docker run -i`. The
// container is removed afterwards, also when ctx ends.
func (e *Engine) Shell(ctx context.Context, o ShellOptions) (int, error) {
	cmd := o.Command
	if len(cmd) == 0 {
		shell := o.Shell
		if shell == "" {
			shell = DefaultShell
		}
		cmd = []string{shell}
	}
	stdout := o.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	inFd, inTerm := terminalFd(o.Stdin)
	outFd, outTerm := terminalFd(stdout)
	tty := inTerm && outTerm

	cfg := e.containerConfig(o.Image, cmd, o.Workspace, o.Env, o.Benchmark, o.Labels)
	cfg.Tty = tty
	cfg.AttachStdout, cfg.AttachStderr = true, true
	if o.Stdin != nil {
		cfg.AttachStdin, cfg.OpenStdin, cfg.StdinOnce = true, true, true
	}
	hc := hostConfig(o.Workspace)
	if tty {
		if w, h, err := term.GetSize(int(outFd)); err == nil {
			hc.ConsoleSize = [2]uint{uint(h), uint(w)}
		}
	}
	id, err := e.createContainer(ctx, cfg, hc, o.PullOutput)
	if err != nil {
		return -1, err
	}
	remove := sync.OnceFunc(func() { e.removeContainer(ctx, id) })
	defer remove()

	attach, err := e.api.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdin: o.Stdin != nil, Stdout: true, Stderr: true})
	if err != nil {
		return -1, fmt.Errorf("attaching to the shell container: %w", err)
	}
	defer attach.Close()

	waitCtx, stopWait := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWait()
	exited, waitErr := e.api.ContainerWait(waitCtx, id, container.WaitConditionNextExit)

	since := time.Now()
	if err := e.api.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return -1, fmt.Errorf("starting %v in %s: %w", cmd, o.Image, startHint(err))
	}
	if tty {
		state, err := term.MakeRaw(int(inFd))
		if err != nil {
			return -1, fmt.Errorf("putting the terminal in raw mode: %w", err)
		}
		defer func() { _ = term.Restore(int(inFd), state) }()
		stopResize := e.forwardResize(ctx, id, int(outFd))
		defer stopResize()
	}

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		if tty {
			_, _ = io.Copy(stdout, attach.Reader)
		} else {
			_, _ = stdcopy.StdCopy(stdout, stdout, attach.Reader)
		}
	}()
	if o.Stdin != nil {
		go func() {
			_, _ = io.Copy(attach.Conn, o.Stdin)
			// EOF on our side closes the container's stdin (StdinOnce).
			_ = attach.CloseWrite()
		}()
	}

	select {
	case res := <-exited:
		<-copied
		remove()
		if err := e.fixOwnership(ctx, o.Image, o.Workspace, since); err != nil {
			return int(res.StatusCode), err
		}
		return int(res.StatusCode), nil
	case err := <-waitErr:
		return -1, fmt.Errorf("waiting for the shell: %w", err)
	case <-ctx.Done():
		remove()
		return -1, fmt.Errorf("shell interrupted; its container was removed: %w", context.Cause(ctx))
	}
}

// resizeTTY tells the engine the terminal's current size.
func (e *Engine) resizeTTY(ctx context.Context, id string, fd int) {
	w, h, err := term.GetSize(fd)
	if err != nil || w == 0 || h == 0 {
		return
	}
	_ = e.api.ContainerResize(ctx, id, container.ResizeOptions{Height: uint(h), Width: uint(w)})
}
