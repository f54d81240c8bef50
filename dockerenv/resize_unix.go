//go:build !windows

package dockerenv

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// forwardResize resizes the container's TTY now and on every SIGWINCH until
// the returned stop function is called.
func (e *Engine) forwardResize(ctx context.Context, id string, fd int) (stop func()) {
	e.resizeTTY(ctx, id, fd)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				e.resizeTTY(ctx, id, fd)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
