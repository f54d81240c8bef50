package starlarkapi

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"sb/exitcode"
)

// Host carries out what a hook asks of the outside world. The runner
// implements it on top of the Docker engine, the host's shell and k6.
type Host interface {
	Run(ctx context.Context, req RunRequest) (RunResult, error)
	Build(ctx context.Context, req BuildRequest) error
	RunK6(ctx context.Context, req K6Request) error
	Serve(ctx context.Context, req ServeRequest) (ServeResult, error)
	Logs(ctx context.Context, name string, since time.Time) (string, error)
	Stop(ctx context.Context, name string) error
	RemoveImage(ctx context.Context, ref string) error
}

// ServeRequest is one spec.serve call: a long-running container.
type ServeRequest struct {
	Image, Name string
	Ports       map[int]int // container port → host port (0: any free one)
	Env         map[string]string
	Cmd         []string // nil keeps the image's command
}

// ServeResult tells where a started service listens.
type ServeResult struct {
	Name  string
	Ports map[int]int // container port → host port on 127.0.0.1
}

// RunRequest is one spec.run call.
type RunRequest struct {
	Cmd   string
	Image string // alias or reference; "" means the default image
	Shell string
	Env   map[string]string
	// Timeout is zero for no limit.
	Timeout time.Duration
	// Local asks for the host's shell in the benchmark directory.
	Local bool
	// DryRunOutput is what the call returns under `sb --dry-run`, so that a
	// hook parsing the output can be checked without running anything.
	DryRunOutput string
}

// RunResult is what a finished command left behind.
type RunResult struct {
	// Output is the combined stdout and stderr.
	Output   string
	ExitCode int
}

// BuildRequest is one spec.build call.
type BuildRequest struct {
	Tag, File, Context string
	BuildArgs          map[string]string
}

// K6Request is one spec.run_k6 call.
type K6Request struct {
	Envs    map[string]string
	Options string
	Image   string
	Script  string
}

// ReservedKey holds sb's event log in the state file; hooks cannot set it.
const ReservedKey = "sb_event_log"

// Spec is the `spec` value handed to every hook: the benchmark's persistent
// key-value store (attributes from BENCHMARK_CONFIG plus whatever hooks
// stored) and the methods that run commands. Missing keys read as None.
type Spec struct {
	name    string
	values  *starlark.Dict
	logsDir string
	// lastRunFailed tells whether the most recent spec.run exited non-zero,
	// so that a cleanup whose last command failed keeps the state file.
	lastRunFailed bool
}

var (
	_ starlark.HasAttrs  = (*Spec)(nil)
	_ starlark.HasSetKey = (*Spec)(nil)
	_ starlark.Container = (*Spec)(nil)
)

// NewSpec makes the spec of benchmark name over values (which it keeps and
// changes in place).
func NewSpec(name string, values *starlark.Dict) *Spec {
	return &Spec{name: name, values: values}
}

// Values returns the store, in insertion order.
func (s *Spec) Values() *starlark.Dict { return s.values }

// SetLogsDir sets what spec.logs_dir returns ("" reads as None).
func (s *Spec) SetLogsDir(dir string) { s.logsDir = dir }

// LastRunFailed reports whether the most recent spec.run exited non-zero.
func (s *Spec) LastRunFailed() bool { return s.lastRunFailed }

func (s *Spec) String() string        { return fmt.Sprintf("<spec %s>", s.name) }
func (s *Spec) Type() string          { return "spec" }
func (s *Spec) Freeze()               {} // the store outlives hooks and stays writable
func (s *Spec) Truth() starlark.Bool  { return starlark.True }
func (s *Spec) Hash() (uint32, error) { return 0, errors.New("unhashable type: spec") }

func specKey(k starlark.Value) (string, error) {
	key, ok := k.(starlark.String)
	if !ok {
		return "", fmt.Errorf("spec keys are strings, got %s %s", k.Type(), k)
	}
	return string(key), nil
}

// Get implements spec[k]: a missing key is None, as in ServiBench.
func (s *Spec) Get(k starlark.Value) (starlark.Value, bool, error) {
	if _, err := specKey(k); err != nil {
		return nil, false, err
	}
	v, found, err := s.values.Get(k)
	if err != nil || !found {
		return starlark.None, true, err
	}
	return v, true, nil
}

// Has implements `k in spec`.
func (s *Spec) Has(k starlark.Value) (bool, error) {
	if _, err := specKey(k); err != nil {
		return false, err
	}
	_, found, err := s.values.Get(k)
	return found, err
}

// SetKey implements spec[k] = v for JSON-compatible values.
func (s *Spec) SetKey(k, v starlark.Value) error {
	key, err := specKey(k)
	if err != nil {
		return err
	}
	if key == ReservedKey {
		return fmt.Errorf("spec[%q] is reserved for sb's event log; choose another key", key)
	}
	if err := CheckJSON(v); err != nil {
		return fmt.Errorf("spec[%q]: %w", key, err)
	}
	return s.values.SetKey(k, v)
}

// CheckValues re-checks every stored value (a hook may have appended a
// non-JSON value to a stored list after storing it) and names the first bad key.
func (s *Spec) CheckValues() error {
	for _, item := range s.values.Items() {
		if err := CheckJSON(item[1]); err != nil {
			return fmt.Errorf("spec[%s]: %w", item[0], err)
		}
	}
	return nil
}

// specMethods is the table of spec's methods, bound to the receiver on access.
var specMethods = map[string]func(*starlark.Thread, *Spec, string, starlark.Tuple, []starlark.Tuple) (starlark.Value, error){
	"get":    specGet,
	"pop":    specPop,
	"run":    specRun,
	"build":  specBuild,
	"run_k6": specRunK6,
	"serve":  specServe,
	"logs":   specLogs,
	"stop":   specStop,
	// remove_image deletes an image spec.build made (a missing one is fine).
	"remove_image": specRemoveImage,
}

func (s *Spec) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(s.name), nil
	case "logs_dir":
		if s.logsDir == "" {
			return starlark.None, nil
		}
		return starlark.String(s.logsDir), nil
	}
	m, ok := specMethods[name]
	if !ok {
		return nil, nil
	}
	impl := func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return m(thread, b.Receiver().(*Spec), b.Name(), args, kwargs)
	}
	return starlark.NewBuiltin(name, impl).BindReceiver(s), nil
}

func (s *Spec) AttrNames() []string {
	names := []string{"name", "logs_dir"}
	for n := range specMethods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func specGet(_ *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var key string
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs(fn, args, kwargs, "key", &key, "default?", &def); err != nil {
		return nil, err
	}
	v, found, err := s.values.Get(starlark.String(key))
	if err != nil || !found {
		return def, err
	}
	return v, nil
}

func specPop(_ *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var key string
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs(fn, args, kwargs, "key", &key, "default?", &def); err != nil {
		return nil, err
	}
	v, found, err := s.values.Delete(starlark.String(key))
	if err != nil || !found {
		return def, err
	}
	return v, nil
}

func threadHost(thread *starlark.Thread, fn string) (Host, error) {
	h, ok := thread.Local(localHost).(Host)
	if !ok {
		return nil, fmt.Errorf("spec.%s can only be called inside a hook (prepare, invoke or cleanup)", fn)
	}
	return h, nil
}

func specRun(thread *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	req := RunRequest{Shell: "/bin/sh"}
	var check, timeout starlark.Value = starlark.None, starlark.None
	var env *starlark.Dict
	if err := starlark.UnpackArgs(fn, args, kwargs,
		"cmd", &req.Cmd, "image?", &req.Image, "shell?", &req.Shell, "check?", &check,
		"env?", &env, "timeout?", &timeout, "local?", &req.Local, "dry_run_output?", &req.DryRunOutput); err != nil {
		return nil, err
	}
	var err error
	if req.Env, err = stringMap(fn, "env", env); err != nil {
		return nil, err
	}
	if req.Timeout, err = seconds(fn, "timeout", timeout); err != nil {
		return nil, err
	}
	// ServiBench's rule: a failing command aborts prepare and invoke, while
	// cleanup carries on so it removes as much as it can.
	mustSucceed := thread.Local(localHook) != "cleanup"
	switch c := check.(type) {
	case starlark.NoneType:
	case starlark.Bool:
		mustSucceed = bool(c)
	default:
		return nil, fmt.Errorf("%s: check must be None, True or False, not %s", fn, check.Type())
	}
	host, err := threadHost(thread, fn)
	if err != nil {
		return nil, err
	}
	res, err := host.Run(threadContext(thread), req)
	if err != nil {
		s.lastRunFailed = true
		return nil, err
	}
	s.lastRunFailed = res.ExitCode != 0
	if res.ExitCode != 0 && mustSucceed {
		return nil, exitcode.With(fmt.Errorf("command `%s` exited with status %d", req.Cmd, res.ExitCode), exitcode.BenchmarkFailed)
	}
	return starlark.String(res.Output), nil
}

func specBuild(thread *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	req := BuildRequest{File: "Dockerfile", Context: "."}
	var buildArgs *starlark.Dict
	if err := starlark.UnpackArgs(fn, args, kwargs, "tag", &req.Tag, "file?", &req.File, "context?", &req.Context, "build_args?", &buildArgs); err != nil {
		return nil, err
	}
	var err error
	if req.BuildArgs, err = stringMap(fn, "build_args", buildArgs); err != nil {
		return nil, err
	}
	host, err := threadHost(thread, fn)
	if err != nil {
		return nil, err
	}
	return starlark.None, host.Build(threadContext(thread), req)
}

func specRunK6(thread *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var req K6Request
	var envs *starlark.Dict
	var image, script starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(fn, args, kwargs, "envs?", &envs, "options?", &req.Options, "image?", &image, "script?", &script); err != nil {
		return nil, err
	}
	var err error
	if req.Envs, err = stringMap(fn, "envs", envs); err != nil {
		return nil, err
	}
	if req.Image, err = optionalString(fn, "image", image); err != nil {
		return nil, err
	}
	if req.Script, err = optionalString(fn, "script", script); err != nil {
		return nil, err
	}
	host, err := threadHost(thread, fn)
	if err != nil {
		return nil, err
	}
	return starlark.None, host.RunK6(threadContext(thread), req)
}

// stringMap reads a dict of environment-like values; numbers and bools are
// accepted and written as Starlark prints them, strings pass verbatim.
func stringMap(fn, param string, d *starlark.Dict) (map[string]string, error) {
	if d == nil {
		return nil, nil
	}
	out := make(map[string]string, d.Len())
	for _, item := range d.Items() {
		k, ok := item[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: %s keys must be strings, got %s", fn, param, item[0].Type())
		}
		switch v := item[1].(type) {
		case starlark.String:
			out[string(k)] = string(v)
		case starlark.Int, starlark.Float, starlark.Bool:
			out[string(k)] = v.String()
		default:
			return nil, fmt.Errorf("%s: %s[%q] must be a string or number, not %s", fn, param, string(k), v.Type())
		}
	}
	return out, nil
}

func seconds(fn, param string, v starlark.Value) (time.Duration, error) {
	var f float64
	switch v := v.(type) {
	case starlark.NoneType:
		return 0, nil
	case starlark.Int:
		i, _ := v.Int64()
		f = float64(i)
	case starlark.Float:
		f = float64(v)
	default:
		return 0, fmt.Errorf("%s: %s must be a number of seconds or None, not %s", fn, param, v.Type())
	}
	if f <= 0 {
		return 0, fmt.Errorf("%s: %s must be positive, got %v", fn, param, v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

func optionalString(fn, param string, v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return "", nil
	case starlark.String:
		return string(v), nil
	}
	return "", fmt.Errorf("%s: %s must be a string or None, not %s", fn, param, v.Type())
}

// specServe starts a long-running container and returns
// struct(name, host, ports, url) where ports maps each container port to
// its host port and url is http://127.0.0.1:<first port>.
func specServe(thread *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var req ServeRequest
	var ports, env *starlark.Dict
	var cmd starlark.Value = starlark.None
	if err := starlark.UnpackArgs(fn, args, kwargs, "image", &req.Image, "name", &req.Name, "ports?", &ports, "env?", &env, "cmd?", &cmd); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, fmt.Errorf("%s: name must not be empty", fn)
	}
	var err error
	if req.Env, err = stringMap(fn, "env", env); err != nil {
		return nil, err
	}
	if ports != nil {
		req.Ports = make(map[int]int, ports.Len())
		for _, item := range ports.Items() {
			c, cok := starlark.AsInt32(item[0])
			h, hok := starlark.AsInt32(item[1])
			if cok != nil || hok != nil || c <= 0 || c > 65535 || h < 0 || h > 65535 {
				return nil, fmt.Errorf("%s: ports maps container ports to host ports (0 for any free one), got %s: %s", fn, item[0], item[1])
			}
			req.Ports[c] = h
		}
	}
	switch c := cmd.(type) {
	case starlark.NoneType:
	case *starlark.List:
		for i := 0; i < c.Len(); i++ {
			a, ok := c.Index(i).(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s: cmd must be a list of strings", fn)
			}
			req.Cmd = append(req.Cmd, string(a))
		}
	default:
		return nil, fmt.Errorf("%s: cmd must be a list of strings or None, not %s", fn, cmd.Type())
	}
	host, err := threadHost(thread, fn)
	if err != nil {
		return nil, err
	}
	res, err := host.Serve(threadContext(thread), req)
	if err != nil {
		return nil, err
	}
	portDict := starlark.NewDict(len(res.Ports))
	first := 0
	for c, h := range res.Ports {
		_ = portDict.SetKey(starlark.MakeInt(c), starlark.MakeInt(h))
		if first == 0 || c < first {
			first = c
		}
	}
	url := starlark.Value(starlark.None)
	if first != 0 {
		url = starlark.String(fmt.Sprintf("http://127.0.0.1:%d", res.Ports[first]))
	}
	return starlarkstruct.FromStringDict(starlark.String("service"), starlark.StringDict{
		"name":  starlark.String(res.Name),
		"host":  starlark.String("127.0.0.1"),
		"ports": portDict,
		"url":   url,
	}), nil
}

// specLogs returns a service's output, optionally since a time (seconds
// since the epoch, or a time.time value).
func specLogs(thread *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var since starlark.Value = starlark.None
	if err := starlark.UnpackArgs(fn, args, kwargs, "name", &name, "since?", &since); err != nil {
		return nil, err
	}
	var t time.Time
	switch v := since.(type) {
	case starlark.NoneType:
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(v)
		t = time.Unix(0, int64(f*1e9))
	case starlarktime.Time:
		t = time.Time(v)
	default:
		return nil, fmt.Errorf("%s: since must be None, epoch seconds or a time, not %s", fn, since.Type())
	}
	host, err := threadHost(thread, fn)
	if err != nil {
		return nil, err
	}
	out, err := host.Logs(threadContext(thread), name, t)
	if err != nil {
		return nil, err
	}
	return starlark.String(out), nil
}

// specStop stops and removes a service; stopping one that is gone is fine.
func specStop(thread *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(fn, args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	host, err := threadHost(thread, fn)
	if err != nil {
		return nil, err
	}
	return starlark.None, host.Stop(threadContext(thread), name)
}

func specRemoveImage(thread *starlark.Thread, s *Spec, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ref string
	if err := starlark.UnpackArgs(fn, args, kwargs, "tag", &ref); err != nil {
		return nil, err
	}
	host, err := threadHost(thread, fn)
	if err != nil {
		return nil, err
	}
	return starlark.None, host.RemoveImage(threadContext(thread), ref)
}
