package azure

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"sb/tracing"
)

// Output file names, written beside the input (the same as X-Ray's, so one
// analysis script reads both).
const (
	BreakdownFile = tracing.BreakdownFile
	InvalidFile   = tracing.InvalidFile
)

// ErrNoOperations is returned (wrapped) for an input without any operation.
var ErrNoOperations = errors.New("no operations in the input")

// AnalyzeOptions tune AnalyzeFile. The zero value is ready to use.
type AnalyzeOptions struct {
	// OutputDir receives the CSV files; empty means the input's directory.
	OutputDir string
}

// Summary is the outcome of an analysis.
type Summary struct {
	// Input is the analysed file.
	Input string
	// BreakdownPath and InvalidPath are the files written.
	BreakdownPath, InvalidPath string
	// Valid and Invalid count the operations in each file; Duplicates
	// counts those invalid only because their id came earlier in the
	// input (included in Invalid).
	Valid, Invalid, Duplicates int
	// ColdStarts is the sum of num_cold_starts over valid operations.
	ColdStarts int
	// Bytes is the size of the input read.
	Bytes int64
	// Replaced is true when earlier CSV files were overwritten.
	Replaced bool
}

// InvalidPercent is the share of invalid operations, 0 when there were none.
func (s Summary) InvalidPercent() float64 {
	if n := s.Valid + s.Invalid; n > 0 {
		return float64(s.Invalid) * 100 / float64(n)
	}
	return 0
}

// AnalyzeFile analyses the Application Insights operations in path (one
// per line, as Download writes them; a saved Logs query answer with
// `tables`, such as ServiBench's per-trace union queries, is accepted too)
// and writes trace_breakdown.csv and invalid_traces.csv beside it (or into
// opt.OutputDir) with the same columns as for X-Ray. An operation that
// cannot be analysed becomes a row of invalid_traces.csv with the reason;
// the analysis never stops at a bad line. Rows keep the input order.
//
// The file is read twice: first to find the first request every host
// instance served (a cold start), then to analyse.
func AnalyzeFile(ctx context.Context, path string, opt AnalyzeOptions) (Summary, error) {
	sum := Summary{Input: path}
	f, _, err := tracing.TracesInput(ErrNoOperations).Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	cold, err := scanColdFacts(ctx, f)
	if err != nil {
		return sum, fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return sum, fmt.Errorf("read %s: %w", path, err)
	}

	out, err := tracing.CreateOutputs(path, opt.OutputDir)
	if err != nil {
		return sum, err
	}
	defer out.Abort()
	sum.BreakdownPath, sum.InvalidPath, sum.Replaced = out.BreakdownPath, out.InvalidPath, out.Replaced
	bw, iw := out.Breakdown, out.Invalid

	res, aerr := analyze(ctx, f, bw, iw, cold)
	res.Input, res.BreakdownPath, res.InvalidPath, res.Replaced = sum.Input, sum.BreakdownPath, sum.InvalidPath, sum.Replaced
	sum = res
	if aerr != nil && !errors.Is(aerr, context.Canceled) && !errors.Is(aerr, context.DeadlineExceeded) {
		return sum, fmt.Errorf("analyse %s: %w", path, aerr)
	}
	if aerr == nil && sum.Valid+sum.Invalid == 0 {
		return sum, fmt.Errorf("traces file %s holds only blank lines: %w", path, ErrNoOperations)
	}
	if err := out.Commit(); err != nil {
		return sum, err
	}
	if aerr != nil {
		return sum, fmt.Errorf("analysis of %s interrupted, partial results kept: %w", path, aerr)
	}
	return sum, nil
}

// lines calls fn for every non-blank line of r (without line break).
func lines(ctx context.Context, r io.Reader, fn func(n int, b []byte) error) (int64, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var total int64
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		b, err := br.ReadBytes('\n')
		total += int64(len(b))
		if t := bytes.TrimSpace(b); len(t) > 0 {
			if ferr := fn(n, t); ferr != nil {
				return total, ferr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// decodeLine turns one line into operations, or says why it cannot.
func decodeLine(b []byte) ([]Operation, string) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err.Error()
	}
	if l.Error != nil {
		return nil, "Azure Monitor answered with an error instead of complete rows (" + l.errorText() +
			"); download the traces again (sb get_traces)."
	}
	if l.Tables != nil {
		ops, err := l.operations()
		if err != nil {
			return nil, err.Error()
		}
		if len(ops) == 0 {
			return nil, "The Logs query answer holds no rows."
		}
		return ops, ""
	}
	if !l.HasID {
		return nil, "Line holds neither operation_Id nor a Logs query answer (tables)."
	}
	return []Operation{l.Operation}, ""
}

// scanColdFacts finds the first request of every host instance.
func scanColdFacts(ctx context.Context, r io.Reader) (*coldFacts, error) {
	cold := &coldFacts{first: map[string]firstRequest{}}
	_, err := lines(ctx, r, func(_ int, b []byte) error {
		ops, _ := decodeLine(b)
		for _, op := range ops {
			for _, row := range op.Requests {
				inst := row.str(colInstance)
				if inst == "" {
					continue
				}
				ns, err := row.timeNs()
				if err != nil {
					continue
				}
				if f, ok := cold.first[inst]; !ok || ns < f.ns {
					cold.first[inst] = firstRequest{ns: ns, operation: op.ID, request: row.str(colID)}
				}
			}
		}
		return nil
	})
	return cold, err
}

func analyze(ctx context.Context, r io.Reader, breakdown, invalid io.Writer, cold *coldFacts) (Summary, error) {
	var sum Summary
	if _, err := io.WriteString(breakdown, tracing.BreakdownHeader); err != nil {
		return sum, err
	}
	if _, err := io.WriteString(invalid, tracing.InvalidHeader); err != nil {
		return sum, err
	}
	var (
		g       tracing.Graph
		an      tracing.Analyzer
		bd      tracing.Breakdown
		b       builder
		rl      rules
		out     []byte
		scratch []byte
	)
	seen := map[string]bool{}
	writeInvalid := func(id, msg string) error {
		sum.Invalid++
		out = tracing.AppendInvalidRow(out[:0], []byte(id), msg)
		_, err := invalid.Write(out)
		return err
	}
	n, err := lines(ctx, r, func(n int, line []byte) error {
		ops, msg := decodeLine(line)
		if msg != "" {
			return writeInvalid("", fmt.Sprintf("Line %d: %s", n, msg))
		}
		for i := range ops {
			op := &ops[i]
			if op.ID != "" && seen[op.ID] {
				sum.Duplicates++
				if err := writeInvalid(op.ID, "Duplicate operation "+op.ID+": its id came earlier in the input."); err != nil {
					return err
				}
				continue
			}
			seen[op.ID] = true
			extraCold, berr := b.build(op, &g, cold)
			if berr == nil {
				rl.reset(b.spans)
				berr = an.Analyze(&g, &rl, &bd)
			}
			if berr != nil {
				var inv *tracing.Invalid
				msg := berr.Error()
				if errors.As(berr, &inv) {
					msg = inv.Msg
				}
				if err := writeInvalid(op.ID, msg); err != nil {
					return err
				}
				continue
			}
			bd.ColdStarts += extraCold
			sum.Valid++
			sum.ColdStarts += bd.ColdStarts
			out, scratch = tracing.AppendBreakdownRow(out[:0], &g, &bd, &rl.row, scratch)
			if _, err := breakdown.Write(out); err != nil {
				return err
			}
		}
		return nil
	})
	sum.Bytes = n
	return sum, err
}
