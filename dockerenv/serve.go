package dockerenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
)

// LabelService marks a container as a long-running service started by
// Serve (spec.serve), as opposed to a command container of Run, so that
// get_traces with provider: local finds the containers whose logs to gather.
const LabelService = "sb.service"

// serviceHostIP is the only host address service ports are published on:
// a benchmark's service must not be reachable from the network.
const serviceHostIP = "127.0.0.1"

// stopGrace is how long Stop lets a service shut down after SIGTERM before
// the engine kills it. Services under benchmark hold no state worth a long
// wait, and cleanup of a suite stops many of them.
const stopGrace = 3 * time.Second

// startSettle is how long Serve watches a started service for an immediate
// exit (a bad flag, a missing file, a port it cannot bind): failing there
// with the service's own output beats a load test against a dead port.
const startSettle = 300 * time.Millisecond

// ServeOptions describes one spec.serve call.
type ServeOptions struct {
	Image string // image reference (resolve aliases with ResolveImage first)
	Name  string // container name; also how Logs and Stop find it
	// Ports publishes container ports (TCP) on 127.0.0.1: container port →
	// host port, where host port 0 picks a free one.
	Ports map[int]int
	Env   map[string]string // environment, passed verbatim
	// Cmd replaces the image's CMD, as arguments of docker run do: the
	// image's ENTRYPOINT is kept (unlike Run, which clears it), so a
	// FROM scratch image with only an ENTRYPOINT runs as built. nil keeps
	// the image's CMD too.
	Cmd       []string
	Workspace Workspace         // the same mounts as Run; WorkDir "" keeps the image's
	Benchmark string            // value of the sb.benchmark label
	Labels    map[string]string // extra container labels
	// PullOutput receives pull progress when the image is missing; nil
	// means os.Stderr.
	PullOutput io.Writer
}

// Service is a running container started by Serve.
type Service struct {
	Name  string
	ID    string
	Image string
	// Ports maps each published container port to the host port it got
	// on 127.0.0.1.
	Ports map[int]int
}

// Serve starts a detached, long-running container of o.Image named o.Name,
// labelled like Run's containers plus LabelService, with o.Ports published
// on 127.0.0.1, and returns it with the host ports it actually got.
//
// The container runs as the image's USER (services such as databases refuse
// to run as root) and is not removed when it exits, so that its logs outlive
// a crash; Stop removes it. A container that already has the name is
// replaced when it is sb's and has exited or serves the same benchmark (a
// repeated prepare); any other is left alone and Serve fails. A service that
// exits right after starting is an error carrying its output.
func (e *Engine) Serve(ctx context.Context, o ServeOptions) (Service, error) {
	if o.Name == "" {
		return Service{}, errors.New("a service needs a name (spec.serve(image, name)) to find it again for its logs and to stop it")
	}
	exposed, bindings, err := portBindings(o.Ports)
	if err != nil {
		return Service{}, fmt.Errorf("service %s: %w", o.Name, err)
	}
	if err := e.clearName(ctx, o.Name, o.Benchmark); err != nil {
		return Service{}, err
	}

	labels := map[string]string{LabelService: "true"}
	for k, v := range o.Labels {
		labels[k] = v
	}
	cfg := e.containerConfig(o.Image, o.Cmd, o.Workspace, o.Env, o.Benchmark, labels)
	cfg.Entrypoint = nil // keep the image's ENTRYPOINT
	cfg.User = ""        // and its USER
	cfg.ExposedPorts = exposed
	hc := hostConfig(o.Workspace)
	hc.PortBindings = bindings

	if ok, err := e.ImageExists(ctx, o.Image); err != nil {
		return Service{}, err
	} else if !ok {
		if err := e.Pull(ctx, o.Image, o.PullOutput); err != nil {
			return Service{}, err
		}
	}
	created, err := e.api.ContainerCreate(ctx, cfg, hc, nil, nil, o.Name)
	if err != nil {
		if cerrdefs.IsConflict(err) {
			return Service{}, fmt.Errorf("a container named %s appeared while starting the service (another sb running the same benchmark?); stop it and retry: %w", o.Name, err)
		}
		return Service{}, fmt.Errorf("creating service %s of %s: %w", o.Name, o.Image, err)
	}
	id := created.ID

	// The wait ends with Serve (it would otherwise hold a connection for
	// the service's lifetime) and only reports the engine's own failures.
	waitCtx, stopWait := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWait()
	exited, waitErr := e.api.ContainerWait(waitCtx, id, container.WaitConditionNextExit)
	if err := e.api.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		e.removeContainer(ctx, id)
		return Service{}, fmt.Errorf("starting service %s of %s: %w", o.Name, o.Image, serveStartHint(err))
	}
	settle := time.NewTimer(startSettle)
	defer settle.Stop()
	select {
	case res := <-exited:
		out := e.containerLogs(ctx, id)
		e.removeContainer(ctx, id)
		return Service{}, fmt.Errorf("service %s of %s exited right after starting with status %d; its output:\n%s", o.Name, o.Image, res.StatusCode, out)
	case err := <-waitErr:
		e.removeContainer(ctx, id)
		return Service{}, fmt.Errorf("watching service %s start: %w", o.Name, err)
	case <-ctx.Done():
		e.removeContainer(ctx, id)
		return Service{}, fmt.Errorf("starting service %s interrupted; its container was removed: %w", o.Name, context.Cause(ctx))
	case <-settle.C:
	}

	info, err := e.api.ContainerInspect(ctx, id)
	if err != nil {
		e.removeContainer(ctx, id)
		return Service{}, fmt.Errorf("inspecting service %s: %w", o.Name, err)
	}
	svc := Service{Name: o.Name, ID: id, Image: o.Image, Ports: map[int]int{}}
	if info.NetworkSettings != nil {
		for p, bs := range info.NetworkSettings.Ports {
			if host, ok := hostPort(bs); ok {
				svc.Ports[p.Int()] = host
			}
		}
	}
	for cp := range o.Ports {
		if _, ok := svc.Ports[cp]; !ok {
			e.removeContainer(ctx, id)
			return Service{}, fmt.Errorf("service %s: the engine published no host port for container port %d", o.Name, cp)
		}
	}
	return svc, nil
}

// portBindings turns container port → host port into the engine's form,
// every binding on 127.0.0.1 ("" lets the engine pick a free port).
func portBindings(ports map[int]int) (nat.PortSet, nat.PortMap, error) {
	if len(ports) == 0 {
		return nil, nil, nil
	}
	exposed := nat.PortSet{}
	bindings := nat.PortMap{}
	for cp, hp := range ports {
		if cp < 1 || cp > 65535 {
			return nil, nil, fmt.Errorf("container port %d is not a TCP port (1-65535)", cp)
		}
		if hp < 0 || hp > 65535 {
			return nil, nil, fmt.Errorf("host port %d for container port %d is not a TCP port (1-65535, or 0 for any free one)", hp, cp)
		}
		p := nat.Port(strconv.Itoa(cp) + "/tcp")
		exposed[p] = struct{}{}
		host := ""
		if hp != 0 {
			host = strconv.Itoa(hp)
		}
		bindings[p] = []nat.PortBinding{{HostIP: serviceHostIP, HostPort: host}}
	}
	return exposed, bindings, nil
}

// hostPort returns the port a binding got on 127.0.0.1.
func hostPort(bs []nat.PortBinding) (int, bool) {
	for _, b := range bs {
		if b.HostIP != serviceHostIP {
			continue
		}
		if n, err := strconv.Atoi(b.HostPort); err == nil && n > 0 {
			return n, true
		}
	}
	return 0, false
}

// serveStartHint adds what to do to the commonest start failures of a
// service: a host port in use, a command the image does not have.
func serveStartHint(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "address already in use") || strings.Contains(msg, "port is already allocated"):
		return fmt.Errorf("%w (a host port is taken; choose another in ports= or 0 for any free one)", err)
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory"):
		return fmt.Errorf("%w (does the image have that command? check cmd= and the image's ENTRYPOINT)", err)
	}
	return err
}

// clearName makes room for a service called name: nothing to do when no
// container has that name; sb's exited container of that name, or its
// running one of the same benchmark, is removed; anything else is refused.
func (e *Engine) clearName(ctx context.Context, name, benchmark string) error {
	info, found, err := e.inspectName(ctx, name)
	if err != nil || !found {
		return err
	}
	labels := map[string]string{}
	if info.Config != nil {
		labels = info.Config.Labels
	}
	if labels[LabelManaged] != "true" {
		return fmt.Errorf("a container named %s exists and was not started by sb; remove it (docker rm -f %s) or give the service another name", name, name)
	}
	running := info.State != nil && info.State.Running
	if running && labels[LabelBenchmark] != benchmark {
		return fmt.Errorf("a service named %s is already running for benchmark %q; give this one another name or stop that one (sb cleanup in its benchmark)", name, labels[LabelBenchmark])
	}
	e.removeContainer(ctx, info.ID)
	return nil
}

// inspectName inspects the container whose name is exactly name. The
// engine also resolves IDs and ID prefixes; a container found that way is
// not one of that name.
func (e *Engine) inspectName(ctx context.Context, name string) (container.InspectResponse, bool, error) {
	info, err := e.api.ContainerInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return container.InspectResponse{}, false, nil
	}
	if err != nil {
		return container.InspectResponse{}, false, fmt.Errorf("looking for a container named %s: %w", name, err)
	}
	if strings.TrimPrefix(info.Name, "/") != name {
		return container.InspectResponse{}, false, nil
	}
	return info, true, nil
}

// Logs returns the combined stdout and stderr of the container name, in
// the order the engine recorded them; only what it printed at or after
// since unless since is zero. Any container's logs can be read, a stopped
// one's too.
func (e *Engine) Logs(ctx context.Context, name string, since time.Time) (string, error) {
	var b bytes.Buffer
	if err := e.WriteLogs(ctx, name, since, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// WriteLogs is Logs writing to w as the engine streams, for logs too large
// to hold (get_traces writes them straight into the logs directory).
func (e *Engine) WriteLogs(ctx context.Context, name string, since time.Time, w io.Writer) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true}
	if !since.IsZero() {
		opts.Since = since.UTC().Format(time.RFC3339Nano)
	}
	rc, err := e.api.ContainerLogs(ctx, name, opts)
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("no container named %s (was it started with spec.serve, and not stopped yet?)", name)
	}
	if err != nil {
		return fmt.Errorf("reading the logs of %s: %w", name, err)
	}
	defer rc.Close()
	// Services have no TTY, so the engine multiplexes both streams; one
	// writer for both keeps their interleaving.
	if _, err := stdcopy.StdCopy(w, w, rc); err != nil {
		return fmt.Errorf("reading the logs of %s: %w", name, err)
	}
	return nil
}

// Stop stops the service name (SIGTERM, then SIGKILL after a short grace)
// and removes its container. A missing container is not an error; a
// container of that name that sb did not start is refused.
func (e *Engine) Stop(ctx context.Context, name string) error {
	// Stopping runs to its end even when ctx ends (Ctrl-C during cleanup
	// must not leave the service running), bounded by the grace period.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace+30*time.Second)
	defer cancel()
	info, found, err := e.inspectName(ctx, name)
	if err != nil || !found {
		return err
	}
	if info.Config == nil || info.Config.Labels[LabelManaged] != "true" {
		return fmt.Errorf("the container named %s was not started by sb; sb leaves it alone (stop it with docker rm -f %s if it is yours to remove)", name, name)
	}
	grace := int(stopGrace / time.Second)
	err = e.api.ContainerStop(ctx, info.ID, container.StopOptions{Timeout: &grace})
	if err != nil && !cerrdefs.IsNotFound(err) {
		e.removeContainer(ctx, info.ID)
		return fmt.Errorf("stopping service %s: %w", name, err)
	}
	err = e.api.ContainerRemove(ctx, info.ID, container.RemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("removing service %s: %w", name, err)
	}
	return nil
}

// Services lists the running services sb started for benchmark ("" for
// every benchmark), sorted by name.
func (e *Engine) Services(ctx context.Context, benchmark string) ([]Service, error) {
	f := filters.NewArgs(
		filters.Arg("label", LabelManaged+"=true"),
		filters.Arg("label", LabelService+"=true"),
	)
	if benchmark != "" {
		f.Add("label", LabelBenchmark+"="+benchmark)
	}
	list, err := e.api.ContainerList(ctx, container.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing sb's services: %w", err)
	}
	out := make([]Service, 0, len(list))
	for _, c := range list {
		s := Service{ID: c.ID, Image: c.Image, Ports: map[int]int{}}
		if len(c.Names) > 0 {
			s.Name = strings.TrimPrefix(c.Names[0], "/")
		}
		for _, p := range c.Ports {
			if p.IP == serviceHostIP && p.Type == "tcp" && p.PublicPort != 0 {
				s.Ports[int(p.PrivatePort)] = int(p.PublicPort)
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
