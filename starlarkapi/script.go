// Package starlarkapi hosts benchmark scripts (*_benchmark.star): it loads
// them, checks BENCHMARK_CONFIG and the prepare/invoke/cleanup hooks, provides
// the predeclared modules and the spec value, converts values between Go,
// Starlark and YAML, and turns Starlark failures into backtraces.
//
// It does not run commands itself: spec.run, spec.build and spec.run_k6 go
// through the Host that the caller (the runner) puts on the thread.
package starlarkapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
	"gopkg.in/yaml.v3"

	"sb/exitcode"
)

// Hooks every benchmark must define, in lifecycle order.
var Hooks = []string{"prepare", "invoke", "cleanup"}

// ConfigVar is the global holding the benchmark's static configuration.
const ConfigVar = "BENCHMARK_CONFIG"

// fileOptions allow what a Python user expects of a script: while loops,
// recursion, top-level if/for and re-assigned globals.
var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

// LoadOptions tune how a script is loaded.
type LoadOptions struct {
	// Seed seeds the `random` module; nil seeds it from the clock.
	Seed *int64
	// Log receives the script's log.* calls and print() output.
	Log zerolog.Logger
}

// Script is a loaded, validated benchmark file.
type Script struct {
	// Path is the absolute path of the *_benchmark.star file.
	Path string
	// Dir is the benchmark directory (the file's directory).
	Dir string
	// Name is the benchmark's name, BENCHMARK_CONFIG's single top-level key.
	Name string
	// Config holds the static attributes from BENCHMARK_CONFIG in file order.
	Config *starlark.Dict

	log   zerolog.Logger
	hooks map[string]*starlark.Function
}

// Load executes a benchmark file and validates it: BENCHMARK_CONFIG present,
// YAML string or dict with exactly one top-level key, and the three hooks each
// taking one parameter. Errors say which file and line and what to do.
func Load(path string, opt LoadOptions) (*Script, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, exitcode.With(err, exitcode.BadInput)
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return nil, exitcode.With(fmt.Errorf("cannot read benchmark file: %w", err), exitcode.BadInput)
	}
	s := &Script{Path: abs, Dir: filepath.Dir(abs), log: opt.Log}
	file := filepath.Base(abs)

	f, err := fileOptions.Parse(file, src, 0)
	if err != nil {
		return nil, exitcode.With(scriptError(err), exitcode.ScriptError)
	}
	configLine := configAssignmentLine(f)

	pre := predeclared(opt)
	l := &loader{root: loadRoot(s.Dir, f), dir: s.Dir, predeclared: pre, cache: map[string]*loadEntry{}}
	thread := &starlark.Thread{Name: "load " + file, Load: l.load, Print: s.print}
	prog, err := starlark.FileProgram(f, pre.Has)
	if err != nil {
		return nil, exitcode.With(scriptError(err), exitcode.ScriptError)
	}
	globals, err := prog.Init(thread, pre)
	if err != nil {
		return nil, exitcode.With(scriptError(err), exitcode.ScriptError)
	}
	globals.Freeze()

	if err := s.readConfig(globals, file, configLine); err != nil {
		return nil, exitcode.With(err, exitcode.ScriptError)
	}
	if err := s.readHooks(globals, file); err != nil {
		return nil, exitcode.With(err, exitcode.ScriptError)
	}
	return s, nil
}

func (s *Script) print(_ *starlark.Thread, msg string) { s.log.Info().Msg(msg) }

// configAssignmentLine finds the line of `BENCHMARK_CONFIG = ...` so that YAML
// errors, which count lines from the string's start, can point into the file.
func configAssignmentLine(f *syntax.File) int32 {
	for _, stmt := range f.Stmts {
		if a, ok := stmt.(*syntax.AssignStmt); ok {
			if id, ok := a.LHS.(*syntax.Ident); ok && id.Name == ConfigVar {
				start, _ := a.RHS.Span()
				return start.Line
			}
		}
	}
	return 0
}

// loadRoot is the directory load() may read from: the benchmark directory, or
// the ancestor named by a `root:` attribute when BENCHMARK_CONFIG is a YAML
// string literal (the usual case; a computed config keeps the benchmark dir).
func loadRoot(dir string, f *syntax.File) string {
	for _, stmt := range f.Stmts {
		a, ok := stmt.(*syntax.AssignStmt)
		if !ok {
			continue
		}
		id, ok := a.LHS.(*syntax.Ident)
		if !ok || id.Name != ConfigVar {
			continue
		}
		lit, ok := a.RHS.(*syntax.Literal)
		if !ok || lit.Token != syntax.STRING {
			return dir
		}
		var cfg map[string]map[string]any
		if yaml.Unmarshal([]byte(lit.Value.(string)), &cfg) != nil {
			return dir
		}
		for _, attrs := range cfg {
			if root, ok := attrs["root"].(string); ok && root != "" {
				return filepath.Clean(filepath.Join(dir, root))
			}
		}
	}
	return dir
}

func (s *Script) readConfig(globals starlark.StringDict, file string, line int32) error {
	v, ok := globals[ConfigVar]
	if !ok {
		return fmt.Errorf("%s: %s is missing: define it as a YAML string whose single top-level key is the benchmark's name, e.g. %s = \"\"\"\\nmy_app:\\n  provider: aws\\n\"\"\"", file, ConfigVar, ConfigVar)
	}
	where := file
	if line > 0 {
		where = fmt.Sprintf("%s:%d", file, line)
	}
	var cfg starlark.Value
	switch v := v.(type) {
	case starlark.String:
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
			return fmt.Errorf("%s: %s is not valid YAML (%s): fix the YAML or use a dict", yamlErrorPlace(file, line, err), ConfigVar, yamlErrorText(err))
		}
		var err error
		if cfg, err = DecodeYAML(&doc); err != nil {
			return fmt.Errorf("%s: %s: %v", where, ConfigVar, err)
		}
	case *starlark.Dict:
		if err := CheckJSON(v); err != nil {
			return fmt.Errorf("%s: %s: %v", where, ConfigVar, err)
		}
		cfg = v
	default:
		return fmt.Errorf("%s: %s is a %s; it must be a YAML string or a dict with one key, the benchmark's name", where, ConfigVar, v.Type())
	}
	top, ok := cfg.(*starlark.Dict)
	if !ok || top.Len() != 1 {
		n, keys := 0, ""
		if ok {
			n, keys = top.Len(), strings.Join(dictKeys(top), ", ")
		}
		return fmt.Errorf("%s: %s must have exactly one top-level key, the benchmark's name, with its attributes below it; found %d key(s)%s", where, ConfigVar, n, prefixIf(": ", keys))
	}
	item := top.Items()[0]
	s.Name = string(item[0].(starlark.String))
	if s.Name == "" || s.Name == "sb" {
		return fmt.Errorf("%s: %q cannot be a benchmark name: choose another top-level key in %s", where, s.Name, ConfigVar)
	}
	switch attrs := item[1].(type) {
	case starlark.NoneType:
		s.Config = starlark.NewDict(0)
	case *starlark.Dict:
		s.Config = DeepCopy(attrs).(*starlark.Dict)
	default:
		return fmt.Errorf("%s: the attributes of %q in %s must be a mapping, not a %s", where, s.Name, ConfigVar, attrs.Type())
	}
	return nil
}

// yamlErrorPlace turns yaml's "line N" (counted from the string's first
// line, which is the line of the opening quotes) into a file position.
func yamlErrorPlace(file string, line int32, err error) string {
	var n int32
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &n); scanErr == nil && line > 0 {
		return fmt.Sprintf("%s:%d", file, line+n-1)
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

func yamlErrorText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
		return msg[i+2:]
	}
	return msg
}

func (s *Script) readHooks(globals starlark.StringDict, file string) error {
	s.hooks = make(map[string]*starlark.Function, len(Hooks))
	for _, name := range Hooks {
		v, ok := globals[name]
		if !ok {
			return fmt.Errorf("%s: missing hook %s: define `def %s(spec):` (every benchmark needs prepare, invoke and cleanup)", file, name, name)
		}
		fn, ok := v.(*starlark.Function)
		if !ok {
			return fmt.Errorf("%s: %s must be a function `def %s(spec):`, not a %s", file, name, name, v.Type())
		}
		if fn.NumParams() != 1 || fn.HasVarargs() || fn.HasKwargs() {
			return fmt.Errorf("%s: hook %s takes %d parameter(s); it must take exactly one: `def %s(spec):`", fn.Position(), name, fn.NumParams(), name)
		}
		s.hooks[name] = fn
	}
	return nil
}

// Call runs one hook with spec as its argument. The host executes the
// commands the hook asks for; cancelling ctx (Ctrl-C) cancels the Starlark
// thread and whatever command it is running.
func (s *Script) Call(ctx context.Context, hook string, spec *Spec, host Host) error {
	fn, ok := s.hooks[hook]
	if !ok {
		return fmt.Errorf("unknown hook %q", hook)
	}
	thread := &starlark.Thread{Name: hook, Print: s.print}
	thread.SetLocal(localContext, ctx)
	thread.SetLocal(localHost, host)
	thread.SetLocal(localHook, hook)
	thread.Load = func(*starlark.Thread, string) (starlark.StringDict, error) {
		return nil, errors.New("load() is only allowed at the top level of a file")
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			thread.Cancel("interrupted")
		case <-done:
		}
	}()
	_, err := starlark.Call(thread, fn, starlark.Tuple{spec}, nil)
	if err != nil {
		if ctx.Err() != nil {
			where := ""
			var evalErr *starlark.EvalError
			if errors.As(err, &evalErr) && len(evalErr.CallStack) > 0 {
				where = " at " + evalErr.CallStack.At(len(evalErr.CallStack)-1).Pos.String()
			}
			return fmt.Errorf("%s() interrupted%s: %w", hook, where, ctx.Err())
		}
		return exitcode.With(scriptError(err), exitcode.ScriptError)
	}
	return nil
}

// Thread-local keys for the run context of a hook.
const (
	localContext = "sb.context"
	localHost    = "sb.host"
	localHook    = "sb.hook"
)

func threadContext(thread *starlark.Thread) context.Context {
	if ctx, ok := thread.Local(localContext).(context.Context); ok {
		return ctx
	}
	return context.Background()
}

// loader implements load() for sibling files: paths relative to the loading
// file, confined to the benchmark's root, each file executed once.
type loader struct {
	root, dir   string
	predeclared starlark.StringDict
	cache       map[string]*loadEntry
}

type loadEntry struct {
	globals starlark.StringDict
	err     error
	loading bool
}

func (l *loader) load(thread *starlark.Thread, module string) (starlark.StringDict, error) {
	from := thread.CallFrame(0).Pos.Filename()
	rel := filepath.Clean(filepath.Join(filepath.Dir(from), filepath.FromSlash(module)))
	abs := filepath.Join(l.dir, rel)
	if r, err := filepath.Rel(l.root, abs); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("load(%q): %s is outside the benchmark's root %s", module, abs, l.root)
	}
	if e, ok := l.cache[abs]; ok {
		if e.loading {
			return nil, fmt.Errorf("load(%q): cycle in load graph", module)
		}
		return e.globals, e.err
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load(%q): no file %s (paths are relative to the loading file)", module, abs)
		}
		return nil, fmt.Errorf("load(%q): %w", module, err)
	}
	e := &loadEntry{loading: true}
	l.cache[abs] = e
	t := &starlark.Thread{Name: "load " + rel, Load: l.load, Print: thread.Print}
	e.globals, e.err = starlark.ExecFileOptions(fileOptions, t, rel, src, l.predeclared)
	e.loading = false
	if e.globals != nil {
		e.globals.Freeze()
	}
	return e.globals, e.err
}

func dictKeys(d *starlark.Dict) []string {
	keys := make([]string, 0, d.Len())
	for _, k := range d.Keys() {
		if s, ok := k.(starlark.String); ok {
			keys = append(keys, string(s))
		} else {
			keys = append(keys, k.String())
		}
	}
	return keys
}

func prefixIf(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
