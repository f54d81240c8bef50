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
	"time"

	"golang.org/x/sys/unix"
)

// fixOwnership gives the files a container created in the bind-mounted
// directory back to the invoking user (e.UID:e.GID).
//
// Containers run as root, so that any image, whatever its USER, can write
// into the mount and read credentials under /root. Afterwards every entry
// of the mounted tree that was created during the run (birth time where the
// file system records one, else status-change time) and is not owned by the
// invoking user is handed back; entries that existed before keep their
// owner, and so does the mounted directory itself. When sb runs as root it
// chowns them directly. Otherwise the host may not chown root's files, so
// one short-lived root container of the same image does it on the mount,
// given the exact paths (only when the run created such files at all).
func (e *Engine) fixOwnership(ctx context.Context, image string, ws Workspace, since time.Time) error {
	if ws.HostDir == "" {
		return nil
	}
	// The host kernel stamps both since and the files; a second of slack
	// covers coarse file system timestamps.
	cutoff := since.Add(-time.Second)
	var denied []string
	err := filepath.WalkDir(ws.HostDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == ws.HostDir {
			// Unreadable directories not created by this run are not ours
			// to fix; ones it created are chowned recursively below.
			return nil
		}
		var st unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_UID|unix.STATX_GID|unix.STATX_BTIME|unix.STATX_CTIME, &st); err != nil {
			return nil
		}
		if int(st.Uid) == e.UID && int(st.Gid) == e.GID {
			return nil
		}
		born := st.Ctime
		if st.Mask&unix.STATX_BTIME != 0 {
			born = st.Btime
		}
		if time.Unix(born.Sec, int64(born.Nsec)).Before(cutoff) {
			return nil
		}
		if err := os.Lchown(p, e.UID, e.GID); err == nil {
			return nil
		} else if !errors.Is(err, fs.ErrPermission) {
			return nil
		}
		rel, err := filepath.Rel(ws.HostDir, p)
		if err != nil {
			return nil
		}
		denied = append(denied, rel)
		if d.IsDir() {
			// Created in this run, so is everything in it: chown -R
			// covers it, even what the host cannot read.
			return filepath.SkipDir
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
// ws mounted, in batches small enough for any argv limit.
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
			return fmt.Errorf("files the container created in %s are owned by root and could not be handed back to %s (chown in %s: exit %d %s %v); run `sudo chown -R %s %s`", ws.HostDir, owner, image, code, out, err, owner, ws.HostDir)
		}
	}
	return nil
}
