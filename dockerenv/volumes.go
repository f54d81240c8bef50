package dockerenv

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"
	archive "github.com/moby/go-archive"
)

// volumeDir is where helper containers mount the volume they read or write.
const volumeDir = "/sbvolume"

// VolumeExists reports whether the named volume exists.
func (e *Engine) VolumeExists(ctx context.Context, name string) (bool, error) {
	_, err := e.api.VolumeInspect(ctx, name)
	if err == nil {
		return true, nil
	}
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("inspecting volume %s: %w", name, err)
}

// RemoveVolume deletes the named volume and reports whether it existed.
func (e *Engine) RemoveVolume(ctx context.Context, name string) (bool, error) {
	err := e.api.VolumeRemove(ctx, name, false)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	case cerrdefs.IsConflict(err):
		return true, fmt.Errorf("volume %s is in use by a container; stop it (see `docker ps --filter volume=%s`) and retry: %w", name, name, err)
	default:
		return true, fmt.Errorf("removing volume %s: %w", name, err)
	}
}

// CopyVolumeTo copies the contents of the named volume into hostDir
// (created if missing), e.g. the aws-secrets credentials for the X-Ray
// downloader. image only hosts the short-lived, never started, container
// that mounts the volume; any local image does. Files keep their modes and
// are owned by the invoking process. A missing volume is an error.
func (e *Engine) CopyVolumeTo(ctx context.Context, volume, image, hostDir string) error {
	exists, err := e.VolumeExists(ctx, volume)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("volume %s does not exist", volume)
	}
	if err := os.MkdirAll(hostDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", hostDir, err)
	}
	return e.withVolume(ctx, volume, image, func(id string) error {
		rc, stat, err := e.api.CopyFromContainer(ctx, id, volumeDir+"/.")
		if err != nil {
			return fmt.Errorf("reading volume %s: %w", volume, err)
		}
		defer rc.Close()
		// The same steps as `docker cp CONTAINER:/dir/. hostDir`: copy the
		// directory's contents, not the directory.
		src := archive.CopyInfo{Path: volumeDir + "/.", Exists: true, IsDir: stat.Mode.IsDir()}
		dst, err := archive.CopyInfoDestinationPath(hostDir)
		if err != nil {
			return fmt.Errorf("preparing %s: %w", hostDir, err)
		}
		dstDir, content, err := archive.PrepareArchiveCopy(rc, src, dst)
		if err != nil {
			return fmt.Errorf("copying volume %s to %s: %w", volume, hostDir, err)
		}
		defer content.Close()
		if err := archive.Untar(content, dstDir, &archive.TarOptions{NoLchown: true}); err != nil {
			return fmt.Errorf("copying volume %s to %s: %w", volume, hostDir, err)
		}
		return nil
	})
}

// WriteVolumeFile writes data as file name (a path relative to the volume's
// root) into the named volume, creating the volume if missing. The file is
// owned by root with the given mode, as a provider CLI running as root
// would have written it. Used by `sb login aws --prompt`.
func (e *Engine) WriteVolumeFile(ctx context.Context, volume, image, name string, data []byte, mode os.FileMode) error {
	clean := path.Clean(filepath.ToSlash(name))
	if clean == "." || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("file name %q is not inside volume %s", name, volume)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for d := path.Dir(clean); d != "."; d = path.Dir(d) {
		dirs[d] = true
	}
	for d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o700}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: clean, Typeflag: tar.TypeReg, Mode: int64(mode.Perm()), Size: int64(len(data))}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return e.withVolume(ctx, volume, image, func(id string) error {
		if err := e.api.CopyToContainer(ctx, id, volumeDir, &buf, container.CopyToContainerOptions{}); err != nil {
			// The error is about the volume, never the file's content.
			return fmt.Errorf("writing %s into volume %s: %w", clean, volume, err)
		}
		return nil
	})
}

// withVolume creates (but never starts) a container of image with the
// volume mounted at volumeDir, runs fn with its id and removes it. The
// engine mounts volumes of stopped containers for archive operations, so no
// process, shell or tool is needed in the image.
func (e *Engine) withVolume(ctx context.Context, volume, image string, fn func(id string) error) error {
	cfg := e.containerConfig(image, []string{"/sb-never-started"}, Workspace{}, nil, "", nil)
	hc := hostConfig(Workspace{Volumes: []VolumeMount{{Volume: volume, Target: volumeDir}}})
	id, err := e.createContainer(ctx, cfg, hc, nil)
	if err != nil {
		return err
	}
	defer e.removeContainer(ctx, id)
	return fn(id)
}

// Containers lists the IDs of all containers (running or not) that sb
// created for benchmark; "" lists every container sb created.
func (e *Engine) Containers(ctx context.Context, benchmark string) ([]string, error) {
	f := filters.NewArgs(filters.Arg("label", LabelManaged+"=true"))
	if benchmark != "" {
		f.Add("label", LabelBenchmark+"="+benchmark)
	}
	list, err := e.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing sb's containers: %w", err)
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// RemoveContainers force-removes every container sb created for benchmark
// ("" for all of sb's) and returns how many it removed: the clean-up for
// leftovers of a crashed sb.
func (e *Engine) RemoveContainers(ctx context.Context, benchmark string) (int, error) {
	ids, err := e.Containers(ctx, benchmark)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		e.removeContainer(ctx, id)
	}
	return len(ids), nil
}

// runQuiet runs a helper container to its end and returns its exit code and
// output; used for sb's own housekeeping, never for user commands.
func (e *Engine) runQuiet(ctx context.Context, cfg *container.Config, hc *container.HostConfig) (int, string, error) {
	id, err := e.createContainer(ctx, cfg, hc, nil)
	if err != nil {
		return -1, "", err
	}
	defer e.removeContainer(ctx, id)
	exited, waitErr := e.api.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err := e.api.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return -1, "", err
	}
	select {
	case res := <-exited:
		return int(res.StatusCode), e.containerLogs(ctx, id), nil
	case err := <-waitErr:
		return -1, "", err
	case <-ctx.Done():
		return -1, "", ctx.Err()
	}
}

// containerLogs returns a finished container's combined output, best effort.
func (e *Engine) containerLogs(ctx context.Context, id string) string {
	rc, err := e.api.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var b bytes.Buffer
	_, _ = stdcopy.StdCopy(&b, &b, rc)
	return strings.TrimSpace(b.String())
}
