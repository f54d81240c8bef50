package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sb/exitcode"
)

// BenchmarkPattern names benchmark files.
const BenchmarkPattern = "*_benchmark.star"

// FindBenchmark resolves the --file flag (relative to cwd) to exactly one
// benchmark file: a file path, a directory holding one benchmark file, or a
// glob matching one file. Without the flag it looks in cwd. Zero or several
// matches are an error naming what was found and what to do.
func FindBenchmark(cwd, file string) (string, error) {
	pattern := file
	if pattern == "" {
		pattern = filepath.Join(cwd, BenchmarkPattern)
	} else {
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(cwd, pattern)
		}
		if fi, err := os.Stat(pattern); err == nil {
			if !fi.IsDir() {
				return pattern, nil
			}
			pattern = filepath.Join(pattern, BenchmarkPattern)
		}
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return "", exitcode.With(fmt.Errorf("bad --file pattern %q: %v", file, err), exitcode.BadInput)
	}
	var files []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && !fi.IsDir() {
			files = append(files, m)
		}
	}
	sort.Strings(files)
	switch len(files) {
	case 1:
		return files[0], nil
	case 0:
		if file != "" {
			return "", exitcode.With(fmt.Errorf("no benchmark file matches %q: give the path of a %s file, its directory or a glob", file, BenchmarkPattern), exitcode.BadInput)
		}
		return "", exitcode.With(fmt.Errorf("no %s file in %s: change into a benchmark's directory or pass --file PATH", BenchmarkPattern, cwd), exitcode.BadInput)
	}
	rel := make([]string, len(files))
	for i, f := range files {
		if r, err := filepath.Rel(cwd, f); err == nil {
			rel[i] = r
		} else {
			rel[i] = f
		}
	}
	return "", exitcode.With(fmt.Errorf("found %d benchmark files (%s): choose one with --file PATH", len(files), strings.Join(rel, ", ")), exitcode.BadInput)
}
