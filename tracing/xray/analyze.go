package xray

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	"sb/tracing"
)

// Output file names, written beside the input.
const (
	BreakdownFile = tracing.BreakdownFile
	InvalidFile   = tracing.InvalidFile
)

// AnalyzeOptions tune AnalyzeFile. The zero value is ready to use.
type AnalyzeOptions struct {
	// Workers is the number of traces analysed in parallel; 0 means one
	// per CPU (GOMAXPROCS).
	Workers int
	// OutputDir receives the CSV files; empty means the input's directory.
	OutputDir string
	// Progress, when set, is called from a single goroutine as the input
	// is consumed (about every MiB, and once at the end).
	Progress func(Progress)
}

// Progress reports how far an analysis has come.
type Progress struct {
	// Bytes of the input consumed so far, out of TotalBytes (0 when the
	// size is unknown).
	Bytes, TotalBytes int64
	// Valid and Invalid count the rows written so far.
	Valid, Invalid int
}

// Summary is the outcome of an analysis.
type Summary struct {
	// Input is the analysed file.
	Input string
	// BreakdownPath and InvalidPath are the files written.
	BreakdownPath, InvalidPath string
	// Valid and Invalid count the traces in each file; Duplicates counts
	// the traces that were invalid only because their id came earlier in
	// the input (included in Invalid).
	Valid, Invalid, Duplicates int
	// Bytes is the size of the input read.
	Bytes int64
	// Replaced is true when earlier CSV files were overwritten.
	Replaced bool
}

// InvalidPercent is the share of invalid traces, 0 when there were none.
func (s Summary) InvalidPercent() float64 {
	if n := s.Valid + s.Invalid; n > 0 {
		return float64(s.Invalid) * 100 / float64(n)
	}
	return 0
}

// ErrNoTraces is returned (wrapped) for an input without any trace.
var ErrNoTraces = errors.New("no traces in the input")

// AnalyzeFile analyses the X-Ray traces in path and writes
// trace_breakdown.csv and invalid_traces.csv beside it (or into
// opt.OutputDir). The input holds one trace per line as `sb get_traces`
// writes it (BatchGetTraces' trace shape); a file holding one pretty-printed
// trace, a sequence of them, a JSON array of traces or a BatchGetTraces
// response ({"Traces": [...]}) is accepted too. A trace that cannot be
// analysed, or a line that is not JSON, becomes a row of
// invalid_traces.csv; the analysis never stops at a bad trace. Rows keep the
// input order. When ctx is cancelled the rows analysed so far are kept and
// the context's error is returned with the Summary.
func AnalyzeFile(ctx context.Context, path string, opt AnalyzeOptions) (Summary, error) {
	sum := Summary{Input: path}
	f, st, err := tracing.TracesInput(ErrNoTraces).Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	out, err := tracing.CreateOutputs(path, opt.OutputDir)
	if err != nil {
		return sum, err
	}
	defer out.Abort()
	sum.BreakdownPath, sum.InvalidPath, sum.Replaced = out.BreakdownPath, out.InvalidPath, out.Replaced
	bw, iw := out.Breakdown, out.Invalid

	res, aerr := Analyze(ctx, f, st.Size(), bw, iw, opt)
	sum.Valid, sum.Invalid, sum.Duplicates, sum.Bytes = res.Valid, res.Invalid, res.Duplicates, res.Bytes
	if aerr != nil && !errors.Is(aerr, context.Canceled) && !errors.Is(aerr, context.DeadlineExceeded) {
		return sum, fmt.Errorf("analyse %s: %w", path, aerr)
	}
	if aerr == nil && sum.Valid+sum.Invalid == 0 {
		return sum, fmt.Errorf("traces file %s holds only blank lines: %w", path, ErrNoTraces)
	}
	if err := out.Commit(); err != nil {
		return sum, err
	}
	if aerr != nil {
		return sum, fmt.Errorf("analysis of %s interrupted, partial results kept: %w", path, aerr)
	}
	return sum, nil
}

// Analyze is AnalyzeFile on streams: it reads traces from r (size bytes, 0
// if unknown, used for progress only) and writes the two CSV files' contents,
// headers included, to breakdown and invalid.
func Analyze(ctx context.Context, r io.Reader, size int64, breakdown, invalid io.Writer, opt AnalyzeOptions) (Summary, error) {
	s := &sink{
		breakdown: breakdown, invalid: invalid,
		seen: make(map[uint64]int), seed: maphash.MakeSeed(),
		progress: opt.Progress, total: size,
	}
	if _, err := io.WriteString(breakdown, tracing.BreakdownHeader); err != nil {
		return s.sum, fmt.Errorf("write %s: %w", BreakdownFile, err)
	}
	if _, err := io.WriteString(invalid, tracing.InvalidHeader); err != nil {
		return s.sum, fmt.Errorf("write %s: %w", InvalidFile, err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	// A UTF-8 byte order mark is not part of the JSON.
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		s.bytes += 3
	}
	var err error
	if prettyPrinted(br) {
		err = s.analyzeStream(ctx, br)
	} else {
		workers := opt.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		err = s.analyzeLines(ctx, br, workers)
	}
	s.report(true)
	s.sum.Bytes = s.bytes
	if err == nil {
		err = s.err
	}
	return s.sum, err
}

// prettyPrinted reports whether the input starts with a line holding only
// "{" or "[", the start of an indented JSON document rather than of a
// trace per line.
func prettyPrinted(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Size())
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || (b[0] != '{' && b[0] != '[') {
		return false
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return false
	}
	return len(bytes.TrimSpace(b[:nl])) == 1
}

// sink writes rows in input order, counts them and flags repeated trace ids.
type sink struct {
	breakdown, invalid io.Writer
	err                error
	sum                Summary
	// seen maps a hash of each trace id to where it was first seen.
	seen     map[uint64]int
	seed     maphash.Seed
	where    func(pos int) string
	progress func(Progress)
	total    int64
	bytes    int64
	last     time.Time
	msg      []byte
}

// put writes one row; pos locates the trace for duplicate messages.
func (s *sink) put(valid bool, id, line []byte, pos int) {
	if s.err != nil {
		return
	}
	if len(id) > 0 {
		h := maphash.Bytes(s.seed, id)
		if first, dup := s.seen[h]; dup {
			s.sum.Duplicates++
			valid = false
			s.msg = tracing.AppendInvalidRow(s.msg[:0], id,
				"Duplicate trace id: the same trace came first "+s.where(first)+"; only that one is analysed.")
			line = s.msg
		} else {
			s.seen[h] = pos
		}
	}
	var err error
	if valid {
		s.sum.Valid++
		_, err = s.breakdown.Write(line)
	} else {
		s.sum.Invalid++
		_, err = s.invalid.Write(line)
	}
	if err != nil {
		s.err = fmt.Errorf("write results: %w", err)
	}
}

func (s *sink) report(final bool) {
	if s.progress == nil {
		return
	}
	if now := time.Now(); final || now.Sub(s.last) >= 50*time.Millisecond {
		s.last = now
		s.progress(Progress{Bytes: s.bytes, TotalBytes: s.total, Valid: s.sum.Valid, Invalid: s.sum.Invalid})
	}
}

// valueSink adapts the sink for the sequential stream mode.
type valueSink struct {
	s   *sink
	pos int
}

func (v *valueSink) row(valid bool, id, line []byte) { v.s.put(valid, id, line, v.pos) }

// analyzeStream reads a sequence of JSON values (pretty-printed traces, an
// array of traces, BatchGetTraces responses) with encoding/json's decoder,
// which buffers one value at a time. Such files are small; after a syntax
// error the rest of the file cannot be resynchronised, so the error is the
// last row.
func (s *sink) analyzeStream(ctx context.Context, br *bufio.Reader) error {
	s.where = func(pos int) string { return "as JSON value " + strconv.Itoa(pos) }
	counter := &countingReader{r: br, n: &s.bytes}
	dec := json.NewDecoder(counter)
	var ta traceAnalyzer
	vs := &valueSink{s: s}
	inArray := false
	if b, _ := br.Peek(64); len(bytes.TrimLeft(b, " \t\r\n")) > 0 && bytes.TrimLeft(b, " \t\r\n")[0] == '[' {
		if _, err := dec.Token(); err != nil {
			return err
		}
		inArray = true
	}
	var raw json.RawMessage
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if inArray && !dec.More() {
			if _, err := dec.Token(); err != nil {
				vs.pos++
				s.put(false, nil, tracing.AppendInvalidRow(nil, nil, "invalid JSON: "+err.Error()), vs.pos)
			}
			return s.err
		}
		if err := dec.Decode(&raw); err != nil {
			if err == io.EOF {
				return s.err
			}
			vs.pos++
			s.put(false, nil, tracing.AppendInvalidRow(nil, nil, "invalid JSON: "+err.Error()), vs.pos)
			return s.err
		}
		vs.pos++
		ta.analyzeValue(raw, vs)
		s.report(false)
	}
}

type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// Line mode: a reader goroutine cuts the input into chunks of whole lines,
// workers analyse chunks in parallel, and the sink writes each chunk's rows
// in chunk order. The number of chunks in flight is bounded, so memory stays
// constant whatever the file size.

const chunkSize = 512 << 10

// maxLine bounds a single line (one trace); longer ones are reported as
// invalid rather than buffered. A variable so that tests can lower it.
var maxLine = 256 << 20

type chunk struct {
	buf       []byte // whole lines
	firstLine int    // line number of buf's first line
	tooLong   int    // >0: the line with this number exceeded maxLine; buf is empty
	rows      []rowRef
	out       []byte // row bytes
	done      chan struct{}
}

type rowRef struct {
	valid          bool
	line           int
	idOff, idEnd   int
	rowOff, rowEnd int
}

// chunkSink collects a chunk's rows for the sink.
type chunkSink struct {
	c    *chunk
	line int
}

func (cs *chunkSink) row(valid bool, id, line []byte) {
	c := cs.c
	r := rowRef{valid: valid, line: cs.line, idOff: len(c.out)}
	c.out = append(c.out, id...)
	r.idEnd = len(c.out)
	r.rowOff = r.idEnd
	c.out = append(c.out, line...)
	r.rowEnd = len(c.out)
	c.rows = append(c.rows, r)
}

func (s *sink) analyzeLines(ctx context.Context, br *bufio.Reader, workers int) error {
	s.where = func(pos int) string { return "on line " + strconv.Itoa(pos) }
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inFlight := 2*workers + 2
	free := make(chan *chunk, inFlight)
	for i := 0; i < inFlight; i++ {
		free <- &chunk{done: make(chan struct{}, 1)}
	}
	work := make(chan *chunk, inFlight)
	order := make(chan *chunk, inFlight)
	readErr := make(chan error, 1)

	go func() {
		defer close(work)
		defer close(order)
		readErr <- readChunks(ctx, br, free, work, order)
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ta traceAnalyzer
			for c := range work {
				analyzeChunk(&ta, c)
				c.done <- struct{}{}
			}
		}()
	}
	for c := range order {
		<-c.done
		if s.err == nil {
			s.writeChunk(c)
			s.report(false)
		}
		free <- c
		if s.err != nil {
			cancel()
		}
	}
	wg.Wait()
	if err := <-readErr; err != nil && s.err == nil {
		return err
	}
	return s.err
}

func (s *sink) writeChunk(c *chunk) {
	for _, r := range c.rows {
		s.put(r.valid, c.out[r.idOff:r.idEnd], c.out[r.rowOff:r.rowEnd], r.line)
	}
	s.bytes += int64(len(c.buf))
}

func analyzeChunk(ta *traceAnalyzer, c *chunk) {
	c.rows = c.rows[:0]
	c.out = c.out[:0]
	cs := chunkSink{c: c, line: c.firstLine}
	if c.tooLong > 0 {
		cs.line = c.tooLong
		cs.row(false, nil, tracing.AppendInvalidRow(nil, nil,
			"Line "+strconv.Itoa(c.tooLong)+" is longer than "+strconv.Itoa(maxLine>>20)+" MiB; not analysed (a trace that big is not one X-Ray returns)."))
		return
	}
	b := c.buf
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		var line []byte
		if nl < 0 {
			line, b = b, nil
		} else {
			line, b = b[:nl], b[nl+1:]
		}
		if !blank(line) {
			ta.analyzeValue(line, &cs)
		}
		cs.line++
	}
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// readChunks fills chunks with whole lines and hands them to the workers
// (work) and, in the same order, to the sink (order).
func readChunks(ctx context.Context, br *bufio.Reader, free chan *chunk, work, order chan<- *chunk) error {
	var carry []byte // the incomplete last line of the previous read
	line := 1
	eof := false
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.tooLong = 0
		c.firstLine = line
		if cap(c.buf) < chunkSize+len(carry) {
			c.buf = make([]byte, 0, chunkSize+len(carry))
		}
		buf := append(c.buf[:0], carry...)
		for {
			if len(buf) == cap(buf) {
				if bytes.IndexByte(buf, '\n') >= 0 || len(buf) >= maxLine {
					break
				}
				// Grow for a long line, up to the limit.
				grown := make([]byte, len(buf), min(2*cap(buf), maxLine))
				copy(grown, buf)
				buf = grown
			}
			n, err := br.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("read traces: %w", err)
			}
			if len(buf) >= cap(buf)/2 && bytes.IndexByte(buf[len(buf)-n:], '\n') >= 0 {
				break
			}
		}
		cut := len(buf)
		if !eof {
			cut = bytes.LastIndexByte(buf, '\n') + 1
		}
		if cut == 0 && eof { // nothing after the last newline
			free <- c
			break
		}
		if cut == 0 { // one line longer than maxLine: report it and skip it
			c.buf = buf[:0]
			c.tooLong = line
			carry = carry[:0]
			if err := skipLine(br); err == io.EOF {
				eof = true
			} else if err != nil {
				return fmt.Errorf("read traces: %w", err)
			}
			line++
		} else {
			carry = append(carry[:0], buf[cut:]...)
			c.buf = buf[:cut]
			line += bytes.Count(c.buf, []byte{'\n'})
		}
		work <- c
		order <- c
	}
	return nil
}

// skipLine discards input up to and including the next newline.
func skipLine(br *bufio.Reader) error {
	for {
		if _, err := br.ReadSlice('\n'); err != bufio.ErrBufferFull {
			return err
		}
	}
}
