package tracing

import (
	"errors"
	"fmt"
	"os"
)

// Input describes what an analysis reads, for its error messages.
type Input struct {
	Kind     string // e.g. "traces file"
	IfAbsent string // what to do when the file does not exist
	IfDir    string // what to do when a directory was given
	Empty    error  // wrapped when the file is empty
}

// TracesInput is a traces.json written by get_traces.
func TracesInput(empty error) Input {
	return Input{Kind: "traces file", IfAbsent: "download traces first (sb get_traces) or pass the right path",
		IfDir: "pass the traces.json file inside it", Empty: empty}
}

// Open opens path for an analysis, refusing a missing file, a directory or
// an empty file with a message saying what to do. The caller closes it.
func (in Input) Open(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s %s does not exist: %s", in.Kind, path, in.IfAbsent)
		}
		return nil, nil, fmt.Errorf("open %s: %w", in.Kind, err)
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("open %s: %w", in.Kind, err)
	case st.IsDir():
		err = fmt.Errorf("%s is a directory: %s", path, in.IfDir)
	case st.Size() == 0:
		err = fmt.Errorf("%s %s is empty: %w", in.Kind, path, in.Empty)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}
