package xray

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sb/internal/shareddata"
	"sb/tracing"
)

// bufSink collects rows the way the output files hold them.
type bufSink struct{ valid, invalid bytes.Buffer }

func (s *bufSink) row(valid bool, id, line []byte) {
	if valid {
		s.valid.Write(line)
	} else {
		s.invalid.Write(line)
	}
}

// sharedTestdata finds the real traces in ../shared/testdata/xray.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	return shareddata.Dir(t, "xray")
}

func analyzeLines(t testing.TB, path string) *bufSink {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ta traceAnalyzer
	s := &bufSink{}
	s.valid.WriteString(tracing.BreakdownHeader)
	s.invalid.WriteString(tracing.InvalidHeader)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		ta.analyzeValue(sc.Bytes(), s)
	}
	return s
}

func TestSharedTracesPerTrace(t *testing.T) {
	td := sharedTestdata(t)
	files, _ := filepath.Glob(filepath.Join(td, "*.jsonl"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		t.Run(name, func(t *testing.T) {
			s := analyzeLines(t, f)
			wantB, err := os.ReadFile(filepath.Join(td, "expected", name+".trace_breakdown.csv"))
			if err != nil {
				t.Logf("no expected output; got:\n%s%s", s.valid.String(), s.invalid.String())
				return
			}
			wantI, _ := os.ReadFile(filepath.Join(td, "expected", name+".invalid_traces.csv"))
			if got := s.valid.String(); got != string(wantB) {
				t.Errorf("trace_breakdown.csv\n got: %q\nwant: %q", got, wantB)
			}
			if got := s.invalid.String(); got != string(wantI) {
				t.Errorf("invalid_traces.csv\n got: %q\nwant: %q", got, wantI)
			}
		})
	}
}
