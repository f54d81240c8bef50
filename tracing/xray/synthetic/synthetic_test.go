package synthetic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
)

func TestWriteProducesOneTracePerLine(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Options{Traces: 50, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var tr struct {
			Id       string
			Duration float64
			Segments []struct{ Id, Document string }
		}
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if len(tr.Segments) < 3 || tr.Duration <= 0 {
			t.Fatalf("line %d: implausible trace %+v", n+1, tr)
		}
		for _, s := range tr.Segments {
			var doc map[string]any
			if err := json.Unmarshal([]byte(s.Document), &doc); err != nil {
				t.Fatalf("line %d: document: %v", n+1, err)
			}
		}
		n++
	}
	if n != 50 {
		t.Fatalf("got %d lines, want 50", n)
	}
}
