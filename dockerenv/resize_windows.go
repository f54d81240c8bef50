package dockerenv

import "context"

// forwardResize sets the size once: Windows consoles have no SIGWINCH.
func (e *Engine) forwardResize(ctx context.Context, id string, fd int) (stop func()) {
	e.resizeTTY(ctx, id, fd)
	return func() {}
}
