package runner

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"sb/dockerenv"
	"sb/starlarkapi"
)

// dryRun is the host of `sb --dry-run`: it records what a hook asks for and
// answers spec.run with the call's dry_run_output, so a benchmark that
// cannot be deployed from here can still be checked and its plan read.
type dryRun struct {
	b     *Benchmark
	local bool // sb --local
	steps []string
}

func (d *dryRun) Run(_ context.Context, req starlarkapi.RunRequest) (starlarkapi.RunResult, error) {
	where := "on the host"
	if !req.Local && !d.local {
		where = "in " + describeImage(req.Image, d.b.images())
	}
	step := fmt.Sprintf("spec.run %s: %s", where, req.Cmd)
	if len(req.Env) > 0 {
		step += " (env " + strings.Join(sortedKeys(req.Env), ", ") + ")"
	}
	d.steps = append(d.steps, step)
	return starlarkapi.RunResult{Output: req.DryRunOutput}, nil
}

func (d *dryRun) Build(_ context.Context, req starlarkapi.BuildRequest) error {
	d.steps = append(d.steps, fmt.Sprintf("spec.build %s from %s (context %s)", req.Tag, req.File, req.Context))
	return nil
}

func (d *dryRun) RunK6(_ context.Context, req starlarkapi.K6Request) error {
	where := "embedded k6"
	if req.Image != "" {
		where = "k6 in " + describeImage(req.Image, d.b.images())
	}
	step := fmt.Sprintf("spec.run_k6 (%s): %s", where, d.b.workloadScript(req.Script))
	if len(req.Envs) > 0 {
		step += " (env " + strings.Join(sortedKeys(req.Envs), ", ") + ")"
	}
	if req.Options != "" {
		step += " " + req.Options
	}
	d.steps = append(d.steps, step)
	return nil
}

// print writes the plan of one hook.
func (d *dryRun) print(w io.Writer, hook string) {
	fmt.Fprintf(w, "%s() would run %d step(s):\n", hook, len(d.steps))
	for i, s := range d.steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
}

// describeImage names an image as the user wrote it and what it resolves to.
func describeImage(name string, overrides map[string]string) string {
	ref := dockerenv.ResolveImage(name, overrides)
	if name == "" {
		name = dockerenv.DefaultAlias
	}
	if ref == name {
		return ref
	}
	return name + " (" + ref + ")"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (d *dryRun) Serve(_ context.Context, req starlarkapi.ServeRequest) (starlarkapi.ServeResult, error) {
	d.steps = append(d.steps, fmt.Sprintf("spec.serve %s in %s", req.Name, describeImage(req.Image, d.b.images())))
	ports := make(map[int]int, len(req.Ports))
	for c, h := range req.Ports {
		if h == 0 {
			h = c // a placeholder: the real port is chosen when it runs
		}
		ports[c] = h
	}
	return starlarkapi.ServeResult{Name: req.Name, Ports: ports}, nil
}

func (d *dryRun) Logs(_ context.Context, name string, _ time.Time) (string, error) {
	d.steps = append(d.steps, "spec.logs "+name)
	return "", nil
}

func (d *dryRun) Stop(_ context.Context, name string) error {
	d.steps = append(d.steps, "spec.stop "+name)
	return nil
}

func (d *dryRun) RemoveImage(_ context.Context, ref string) error {
	d.steps = append(d.steps, "spec.remove_image "+ref)
	return nil
}
