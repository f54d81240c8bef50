package dockerenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// fixOwnership gives the files a container left in the bind-mounted
// directory back to the invoking user (e.UID:e.GID).
//
// Containers run as root (so that any image, whatever its USER, can write
// into the mount and read credentials under /root). Afterwards every entry
// in the mounted tree that is not owned by the invoking user and whose
// status changed since the container started (ctime, which creation and
// chown both set) is handed back. Entries the container did not touch keep
// their owner. When sb itself runs as root the files are chowned directly;
// otherwise the host may not chown root's files, so one short-lived root
// container of the same image does it on the mount, told the exact paths.
func (e *Engine) fixOwnership(ctx context.Context, image string, ws Workspace, since time.Time) error {
	if ws.HostDir == "" {
		return nil
	}
	// ctime has the host kernel's clock, like since; a second of slack
	// covers coarse file system timestamps.
	cutoff := since.Add(-time.Second)
	var denied []string
	err := filepath.WalkDir(ws.HostDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// An unreadable directory written by the container is exactly
			// what needs fixing; anything else is skipped.
			if errors.Is(err, fs.ErrPermission) {
				if rel, rerr := filepath.Rel(ws.HostDir, p); rerr == nil {
					denied = append(denied, rel)
				}
				return nil
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok || (int(st.Uid) == e.UID && int(st.Gid) == e.GID) {
			return nil
		}
		if time.Unix(st.Ctim.Unix()).Before(cutoff) {
			return nil
		}
		if err := os.Lchown(p, e.UID, e.GID); err != nil {
			rel, rerr := filepath.Rel(ws.HostDir, p)
			if rerr != nil {
				return nil
			}
			denied = append(denied, rel)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("handing files in %s back to uid %d: %w", ws.HostDir, e.UID, err)
	}
	if len(denied) == 0 {
		return nil
	}
	return e.chownInContainer(ctx, image, ws, denied)
}

// chownInContainer runs `chown -R -h uid:gid PATHS…` as root in image with
// ws mounted, in batches small enough for any argv limit. -R covers
// directories the host could not even read.
func (e *Engine) chownInContainer(ctx context.Context, image string, ws Workspace, rel []string) error {
	owner := strconv.Itoa(e.UID) + ":" + strconv.Itoa(e.GID)
	const batch = 500
	for start := 0; start < len(rel); start += batch {
		end := min(start+batch, len(rel))
		cmd := []string{"chown", "-R", "-h", owner, "--"}
		for _, r := range rel[start:end] {
			cmd = append(cmd, path.Join(ws.MountPath, filepath.ToSlash(r)))
		}
		cfg := e.containerConfig(image, cmd, Workspace{}, nil, "", nil)
		cfg.AttachStdout, cfg.AttachStderr = true, true
		code, out, err := e.runQuiet(ctx, cfg, hostConfig(Workspace{HostDir: ws.HostDir, MountPath: ws.MountPath}))
		if err != nil || code != 0 {
			return fmt.Errorf("files the container wrote in %s are owned by root and could not be handed back to uid %s (chown in %s: exit %d %s %v); run `sudo chown -R %s %s`", ws.HostDir, owner, image, code, out, err, owner, ws.HostDir)
		}
	}
	return nil
}
