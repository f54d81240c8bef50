package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"gopkg.in/yaml.v3"

	"sb/exitcode"
	"sb/internal/atomicfile"
	"sb/starlarkapi"
)

// StateDir and StateFile locate the persistent state beside the benchmark,
// where ServiBench keeps it.
const (
	StateDir  = ".sb"
	StateFile = "config.yml"
)

// eventTimeLayout writes times as Python's str(datetime.now().astimezone())
// does, e.g. "2021-03-27 12:21:50.624783+01:00".
const eventTimeLayout = "2006-01-02 15:04:05.000000-07:00"

// Event is one entry of the event log: a lifecycle step starting or ending.
type Event struct {
	Time time.Time
	Name string // prepare, invoke, cleanup
	Type string // start, end
}

func (e Event) String() string {
	return e.Time.Format(eventTimeLayout) + "," + e.Name + "," + e.Type
}

func parseEvent(s string) (Event, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Event{}, fmt.Errorf("event %q is not TIME,NAME,TYPE", s)
	}
	for _, layout := range []string{eventTimeLayout, "2006-01-02 15:04:05-07:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, parts[0]); err == nil {
			return Event{Time: t, Name: parts[1], Type: parts[2]}, nil
		}
	}
	return Event{}, fmt.Errorf("event %q: cannot read the time %q", s, parts[0])
}

// Host describes the machine that ran sb, as ServiBench records it.
type Host struct {
	Path      string // the benchmark directory
	System    string // Linux, Darwin, Windows
	UserGroup string // "uid:gid" on Unix, "" elsewhere
}

func currentHost(dir string) Host {
	h := Host{Path: dir, System: strings.ToUpper(runtime.GOOS[:1]) + runtime.GOOS[1:]}
	if runtime.GOOS != "windows" {
		if u, err := user.Current(); err == nil {
			h.UserGroup = u.Uid + ":" + u.Gid
		}
	}
	return h
}

// State is the content of .sb/config.yml: the benchmark's attributes and
// stored values (one namespace, in insertion order), its event log and the sb
// section describing the host.
type State struct {
	Path   string
	Name   string
	Values *starlark.Dict
	Events []Event
	Host   Host
	// onDisk tells whether Path existed when the state was loaded.
	onDisk bool
}

// loadState reads the state of script's benchmark, creating a fresh one when
// there is none, and merges the static BENCHMARK_CONFIG over it: static values
// win on every load. A state file that cannot be read is reported and left
// untouched.
func loadState(script *starlarkapi.Script) (*State, error) {
	st := &State{
		Path:   filepath.Join(script.Dir, StateDir, StateFile),
		Name:   script.Name,
		Values: starlark.NewDict(script.Config.Len()),
		Host:   currentHost(script.Dir),
	}
	data, err := os.ReadFile(st.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, exitcode.With(fmt.Errorf("cannot read state file %s: %w", st.Path, err), exitcode.Infrastructure)
	default:
		st.onDisk = true
		if err := st.decode(data); err != nil {
			return nil, exitcode.With(fmt.Errorf("corrupt state file %s: %v; sb leaves it untouched: fix it, or move it away to start afresh", st.Path, err), exitcode.BadInput)
		}
	}
	for _, item := range script.Config.Items() {
		if err := st.Values.SetKey(item[0], starlarkapi.DeepCopy(item[1])); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *State) decode(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return errors.New("the file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return errors.New("the top level is not a mapping")
	}
	var others []string
	found := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, root.Content[i+1]
		switch key {
		case "sb":
			var h struct {
				Path      string `yaml:"host_path"`
				System    string `yaml:"host_system"`
				UserGroup string `yaml:"host_user_group"`
			}
			if err := val.Decode(&h); err != nil {
				return fmt.Errorf("sb section: %v", err)
			}
			// The recorded host wins only where it says something: a state
			// file written elsewhere keeps describing that machine.
			if h.Path != "" {
				st.Host = Host(h)
			}
		case st.Name:
			found = true
			if err := st.decodeBenchmark(val); err != nil {
				return fmt.Errorf("%s: %v", key, err)
			}
		default:
			others = append(others, key)
		}
	}
	if !found && len(others) > 0 {
		return fmt.Errorf("it holds the state of benchmark %s, but the script's benchmark is %q", strings.Join(others, ", "), st.Name)
	}
	return nil
}

func (st *State) decodeBenchmark(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	v, err := starlarkapi.DecodeYAML(n)
	if err != nil {
		return err
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("line %d: expected a mapping of attributes", n.Line)
	}
	for _, item := range d.Items() {
		if item[0] == starlark.String(starlarkapi.ReservedKey) {
			events, ok := item[1].(*starlark.List)
			if !ok {
				if item[1] == starlark.None {
					continue
				}
				return fmt.Errorf("%s is not a list", starlarkapi.ReservedKey)
			}
			for i := 0; i < events.Len(); i++ {
				s, ok := events.Index(i).(starlark.String)
				if !ok {
					return fmt.Errorf("%s[%d] is not a string", starlarkapi.ReservedKey, i)
				}
				e, err := parseEvent(string(s))
				if err != nil {
					return err
				}
				st.Events = append(st.Events, e)
			}
			continue
		}
		if err := st.Values.SetKey(item[0], item[1]); err != nil {
			return err
		}
	}
	return nil
}

// encode renders the state as YAML, attributes in insertion order. A value
// that is not JSON-compatible is left out and reported.
func (st *State) encode() ([]byte, error) {
	bench := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	var bad []error
	for _, item := range st.Values.Items() {
		n, err := starlarkapi.EncodeYAML(item[1])
		if err != nil {
			bad = append(bad, fmt.Errorf("spec[%s] was not saved: %w", item[0], err))
			continue
		}
		bench.Content = append(bench.Content, str(string(item[0].(starlark.String))), n)
	}
	events := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, e := range st.Events {
		events.Content = append(events.Content, str(e.String()))
	}
	bench.Content = append(bench.Content, str(starlarkapi.ReservedKey), events)
	sb := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		str("host_path"), str(st.Host.Path),
		str("host_system"), str(st.Host.System),
		str("host_user_group"), str(st.Host.UserGroup),
	}}
	doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{str(st.Name), bench, str("sb"), sb}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), errors.Join(bad...)
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// Save writes the state atomically (temporary file, then rename), so an
// interrupted sb never leaves a half-written file behind.
func (st *State) Save() error {
	data, encErr := st.encode()
	if data == nil {
		return encErr
	}
	if err := writeAtomic(st.Path, data); err != nil {
		return exitcode.With(fmt.Errorf("saving state: %w", err), exitcode.Infrastructure)
	}
	st.onDisk = true
	return encErr
}

// Remove deletes the state file (after a successful cleanup).
func (st *State) Remove() error {
	err := os.Remove(st.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return exitcode.With(fmt.Errorf("removing state: %w", err), exitcode.Infrastructure)
	}
	_ = os.Remove(filepath.Dir(st.Path)) // only if empty
	st.onDisk = false
	return nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

// writeNew writes a file that must not exist yet: logs are never overwritten.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// AddEvent appends an event and returns it.
func (st *State) AddEvent(now time.Time, name, typ string) Event {
	e := Event{Time: now, Name: name, Type: typ}
	st.Events = append(st.Events, e)
	return e
}

// LastEvent returns the newest event, if any.
func (st *State) LastEvent() (Event, bool) {
	if len(st.Events) == 0 {
		return Event{}, false
	}
	return st.Events[len(st.Events)-1], true
}

// LastEventTime returns the time of the newest event with this name and type.
func (st *State) LastEventTime(name, typ string) (time.Time, bool) {
	for i := len(st.Events) - 1; i >= 0; i-- {
		if e := st.Events[i]; e.Name == name && e.Type == typ {
			return e.Time, true
		}
	}
	return time.Time{}, false
}

// TotalDuration is the time from the first event to the end of cleanup, or
// to now while the benchmark is still deployed (ServiBench's definition).
func (st *State) TotalDuration(now time.Time) time.Duration {
	first, ok := st.Events, len(st.Events) > 0
	if !ok {
		return 0
	}
	last := first[len(first)-1]
	if last.Name == "cleanup" && last.Type == "end" {
		return last.Time.Sub(first[0].Time)
	}
	return now.Sub(first[0].Time)
}

// Attr returns a string attribute or "" when it is absent or not a string.
func (st *State) Attr(key string) string {
	v, found, _ := st.Values.Get(starlark.String(key))
	if s, ok := v.(starlark.String); found && ok {
		return string(s)
	}
	return ""
}
