//go:build !linux

package dockerenv

import (
	"context"
	"time"
)

// fixOwnership is a no-op off Linux: Docker Desktop maps the ownership of
// files in bind mounts to the host user itself.
func (e *Engine) fixOwnership(ctx context.Context, image string, ws Workspace, since time.Time) error {
	return nil
}
