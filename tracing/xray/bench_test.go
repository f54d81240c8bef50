package xray

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"sb/tracing/xray/synthetic"
)

// benchInput is a generated traces file shared by the benchmarks.
func benchInput(b *testing.B, traces int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := synthetic.Write(&buf, synthetic.Options{Traces: traces, Seed: 1, InvalidEvery: 50}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkAnalyze measures the whole pipeline on an in-memory input
// (MB/s is the throughput figure to compare with the reference's 13.6 MB/s).
func BenchmarkAnalyze(b *testing.B) {
	data := benchInput(b, 4000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Analyze(context.Background(), bytes.NewReader(data), int64(len(data)), io.Discard, io.Discard, AnalyzeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyzeTrace measures one worker on one trace at a time.
func BenchmarkAnalyzeTrace(b *testing.B) {
	data := benchInput(b, 500)
	lines := bytes.Split(bytes.TrimSpace(data), []byte{'\n'})
	var ta traceAnalyzer
	sink := discardSink{}
	b.SetBytes(int64(len(data)) / int64(len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ta.analyzeValue(lines[i%len(lines)], sink)
		i++
	}
}

type discardSink struct{}

func (discardSink) row(bool, []byte, []byte) {}

// BenchmarkAnalyzeFile measures AnalyzeFile on a generated file on disk,
// CSV writing included.
func BenchmarkAnalyzeFile(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "traces.json")
	data := benchInput(b, 4000)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := AnalyzeFile(context.Background(), path, AnalyzeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
