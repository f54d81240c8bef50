package runner

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"sb/examples"
	"sb/exitcode"
	"sb/starlarkapi"
)

// ExamplesDir is where `--benchmarks NAME` unpacks a ready-made benchmark,
// below the current directory; it is kept, so its state and logs live there.
const ExamplesDir = "sb-benchmarks"

// Example is one ready-made benchmark bundled with sb.
type Example struct {
	Name        string
	Clouds      []string // subdirectories with a benchmark; empty when it needs none
	Description string
}

// exampleClouds tells where name's benchmark files are: "" for one directly
// in name/, else the cloud subdirectories.
func exampleClouds(files map[string][]byte) (direct bool, clouds []string) {
	seen := map[string]bool{}
	for rel := range files {
		if !strings.HasSuffix(rel, "_benchmark.star") {
			continue
		}
		switch dir := path.Dir(rel); {
		case dir == ".":
			direct = true
		case !strings.Contains(dir, "/") && !seen[dir]:
			seen[dir] = true
			clouds = append(clouds, dir)
		}
	}
	sort.Strings(clouds)
	return direct, clouds
}

// Examples lists the bundled benchmarks with their clouds and descriptions.
func Examples() ([]Example, error) {
	tmp, err := os.MkdirTemp("", "sb-examples-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var out []Example
	for _, name := range examples.Names() {
		files := examples.Files(name)
		direct, clouds := exampleClouds(files)
		if !direct && len(clouds) == 0 {
			continue
		}
		ex := Example{Name: name, Clouds: clouds}
		dir := filepath.Join(tmp, name)
		if err := examples.Unpack(name, dir); err != nil {
			return nil, err
		}
		if !direct {
			dir = filepath.Join(dir, clouds[0])
		}
		if matches, _ := filepath.Glob(filepath.Join(dir, BenchmarkPattern)); len(matches) == 1 {
			if s, err := starlarkapi.Load(matches[0], starlarkapi.LoadOptions{}); err == nil {
				if d, found, _ := s.Config.Get(starlark.String("description")); found {
					ex.Description, _ = starlark.AsString(d)
				}
			}
		}
		out = append(out, ex)
	}
	return out, nil
}

// ResolveExample returns the directory of the bundled benchmark name for
// cloud (below cwd/sb-benchmarks), unpacking it on first use. Unknown names
// and clouds are errors listing the known ones.
func ResolveExample(cwd, name, cloud string) (string, error) {
	known := examples.Names()
	files := examples.Files(name)
	direct, clouds := exampleClouds(files)
	if len(files) == 0 || (!direct && len(clouds) == 0) {
		var names []string
		for _, n := range known {
			if d, c := exampleClouds(examples.Files(n)); d || len(c) > 0 {
				names = append(names, n)
			}
		}
		return "", exitcode.With(fmt.Errorf("no ready-made benchmark %q: sb has %s (see sb examples)", name, strings.Join(names, ", ")), exitcode.BadInput)
	}
	sub := ""
	switch {
	case cloud != "" && !direct && !slices.Contains(clouds, cloud):
		return "", exitcode.With(fmt.Errorf("benchmark %s has no %s version: choose --cloud %s", name, cloud, strings.Join(clouds, " or ")), exitcode.BadInput)
	case cloud != "" && !direct:
		sub = cloud
	case cloud == "" && !direct && len(clouds) == 1:
		sub = clouds[0]
	case cloud == "" && !direct:
		return "", exitcode.With(fmt.Errorf("benchmark %s exists for %s: choose one with --cloud", name, strings.Join(clouds, ", ")), exitcode.BadInput)
	case cloud != "" && direct:
		return "", exitcode.With(fmt.Errorf("benchmark %s runs without a cloud: drop --cloud %s", name, cloud), exitcode.BadInput)
	}
	root := filepath.Join(cwd, ExamplesDir, name)
	if _, err := os.Stat(root); err != nil {
		if err := examples.Unpack(name, root); err != nil {
			return "", exitcode.With(fmt.Errorf("unpacking benchmark %s: %w", name, err), exitcode.Infrastructure)
		}
	}
	return filepath.Join(root, sub), nil
}
