// Package atomicfile writes files that readers only ever see whole: the
// content goes to a temporary file beside the target, which is renamed into
// place once complete, so an interrupted sb never leaves half a state file,
// options file or CSV under the real name.
package atomicfile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// File is being written under a temporary name until Commit.
type File struct {
	*bufio.Writer
	f    *os.File
	path string
	done bool
	// sync makes Commit wait for the disk: worth it for small files that
	// hold state (a lost update there loses a deployment's ids), not for
	// large outputs that can be made again (an fsync of a big CSV costs
	// more than analysing it).
	sync bool
}

// Create starts writing path.
func Create(path string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &File{Writer: bufio.NewWriterSize(f, 256<<10), f: f, path: path}, nil
}

// Commit flushes and renames the file into place (mode 0644).
func (a *File) Commit() error {
	a.done = true
	err := a.Flush()
	if err == nil && a.sync {
		err = a.f.Sync()
	}
	if err == nil {
		err = a.f.Chmod(0o644)
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	return nil
}

// Abort drops the temporary file unless it was committed; safe to defer.
func (a *File) Abort() {
	if !a.done {
		a.done = true
		a.f.Close()
		os.Remove(a.f.Name())
	}
}

// WriteFile replaces path with data atomically and durably (synced before
// the rename), for state and options files.
func WriteFile(path string, data []byte) error {
	a, err := Create(path)
	if err != nil {
		return err
	}
	a.sync = true
	defer a.Abort()
	if _, err := a.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return a.Commit()
}
