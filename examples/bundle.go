// Package examples carries sb's ready-made benchmarks inside the binary, so
// that `sb test --benchmarks=NAME` works after a plain install without the
// source tree. The benchmarks are stored as one tar archive (bundle.tar)
// rather than embedded as a directory because some examples hold Go modules
// of their own, which go:embed refuses to embed; TestBundleIsCurrent keeps
// the archive in step with the directory (go test ./examples -update).
package examples

import (
	"archive/tar"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed bundle.tar
var bundle []byte

// skipped are what local runs leave in an example and never belongs in the
// bundle.
func skipped(rel string, d fs.DirEntry) bool {
	name := d.Name()
	if d.IsDir() {
		// Run leftovers and build outputs: logs, state, binaries, the Go
		// module cache a cloud example's prepare keeps beside it.
		switch name {
		case "logs", ".sb", "bin", "sb-benchmarks", ".cache", "build", ".aws-sam":
			return true
		}
		return false
	}
	return name == "workload_options.json" || rel == "bundle.tar" || rel == "bundle.go" || rel == "bundle_test.go" ||
		strings.HasSuffix(name, ".test") || strings.HasSuffix(rel, "/app/handler") // the Azure examples' compiled handler
}

// Pack builds the bundle from the examples directory dir: every file below it
// except run leftovers, in name order, with fixed times and owners so that
// the same tree always gives the same bytes.
func Pack(dir string) ([]byte, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if skipped(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		mode := int64(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: rel, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Names lists the bundled benchmarks (the top-level directories).
func Names() []string {
	seen := map[string]bool{}
	var names []string
	_ = walk(func(h *tar.Header, _ io.Reader) error {
		if top, _, ok := strings.Cut(h.Name, "/"); ok && !seen[top] {
			seen[top] = true
			names = append(names, top)
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// Files returns the bundled files below name/ (paths relative to it).
func Files(name string) map[string][]byte {
	out := map[string][]byte{}
	_ = walk(func(h *tar.Header, r io.Reader) error {
		if rest, ok := strings.CutPrefix(h.Name, name+"/"); ok {
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			out[rest] = data
		}
		return nil
	})
	return out
}

// Unpack writes the benchmark name into dir (which must not exist yet),
// keeping executable bits.
func Unpack(name, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists", dir)
	}
	files := Files(name)
	if len(files) == 0 {
		return fmt.Errorf("no example %q", name)
	}
	modes := map[string]int64{}
	_ = walk(func(h *tar.Header, _ io.Reader) error { modes[h.Name] = h.Mode; return nil })
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, os.FileMode(modes[path.Join(name, rel)])); err != nil {
			return err
		}
	}
	return nil
}

func walk(fn func(*tar.Header, io.Reader) error) error {
	tr := tar.NewReader(bytes.NewReader(bundle))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}
