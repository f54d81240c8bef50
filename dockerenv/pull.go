package dockerenv

import (
	"context"
	"fmt"
	"io"
	"os"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"
	"golang.org/x/term"
)

// Pull fetches ref from its registry. On a terminal, progress is shown one
// line per layer (as docker pull does); otherwise only a line saying which
// image is pulled. progress nil means os.Stderr. A failure names the image
// and carries the engine's answer.
func (e *Engine) Pull(ctx context.Context, ref string, progress io.Writer) error {
	if progress == nil {
		progress = os.Stderr
	}
	fd, isTerm := terminalFd(progress)
	if !isTerm {
		fmt.Fprintf(progress, "pulling image %s\n", ref)
	}
	rc, err := e.api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("pulling image %s failed: %w; check the image name and that this host can reach its registry", ref, err)
	}
	defer rc.Close()
	out := progress
	if !isTerm {
		out = io.Discard
	}
	// DisplayJSONMessagesStream also turns an error message in the stream
	// (e.g. "manifest unknown") into its return value.
	if err := jsonmessage.DisplayJSONMessagesStream(rc, out, fd, isTerm, nil); err != nil {
		return fmt.Errorf("pulling image %s failed: %w; check the image name and that this host can reach its registry", ref, err)
	}
	return nil
}

// ImageExists reports whether the engine has the image ref locally.
func (e *Engine) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := e.api.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("inspecting image %s: %w", ref, err)
}

// RemoveImage deletes the image ref (for tests and sb init --rebuild); a
// missing image is not an error.
func (e *Engine) RemoveImage(ctx context.Context, ref string) error {
	_, err := e.api.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing image %s: %w", ref, err)
	}
	return nil
}

// terminalFd reports whether w is a terminal, and its descriptor.
func terminalFd(w any) (uintptr, bool) {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := f.Fd()
	return fd, term.IsTerminal(int(fd))
}
