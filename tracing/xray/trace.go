package xray

import (
	"strconv"

	"sb/tracing"
)

// traceAnalyzer turns one trace into one CSV row; one per worker, reused.
type traceAnalyzer struct {
	p       traceParser
	g       tracing.Graph
	a       tracing.Analyzer
	b       tracing.Breakdown
	r       rules
	line    []byte // the row being written
	scratch []byte // the JSON cells of the row
	ranges  [][2]int
}

// rowSink receives the rows of analysed traces, in order.
type rowSink interface {
	// row receives a finished CSV line for trace id; valid tells which
	// file it belongs to.
	row(valid bool, id []byte, line []byte)
}

// analyzeValue analyses one JSON value of the input: a trace, or a
// BatchGetTraces response whose Traces are analysed in order.
func (t *traceAnalyzer) analyzeValue(data []byte, out rowSink) {
	if err := t.p.parseTrace(data); err != nil {
		t.invalid(out, nil, err.Error())
		return
	}
	tr := &t.p.tr
	if tr.hasTraces && !tr.hasID && !tr.hasSegments {
		if tr.tracesBad {
			t.invalid(out, nil, "Traces is not a list of traces.")
			return
		}
		// The ranges refer to data, which parsing the elements leaves alone,
		// but the parser's own list is reused: copy it first.
		t.ranges = append(t.ranges[:0], tr.traces...)
		for _, rg := range t.ranges {
			t.analyzeTrace(data[rg[0]:rg[1]], out)
		}
		return
	}
	t.analyzeParsed(out)
}

// analyzeTrace analyses one trace object.
func (t *traceAnalyzer) analyzeTrace(data []byte, out rowSink) {
	if err := t.p.parseTrace(data); err != nil {
		t.invalid(out, nil, err.Error())
		return
	}
	t.analyzeParsed(out)
}

func (t *traceAnalyzer) invalid(out rowSink, id []byte, msg string) {
	t.line = tracing.AppendInvalidRow(t.line[:0], id, msg)
	out.row(false, id, t.line)
}

// analyzeParsed runs step 1 (the span graph) on the parsed trace and the
// core breakdown on the graph.
func (t *traceAnalyzer) analyzeParsed(out rowSink) {
	tr := &t.p.tr
	var id []byte
	if tr.hasID && !tr.idBad {
		id = tr.id
	}
	if !tr.hasDuration {
		t.invalid(out, id, "Missing trace duration.")
		return
	}
	if !tr.hasSegments || tr.segsBad {
		t.invalid(out, id, "Trace has no Segments list.")
		return
	}
	if msg := t.p.parseDocuments(); msg != "" {
		t.invalid(out, id, msg)
		return
	}
	if id == nil {
		t.invalid(out, nil, "Trace has no Id.")
		return
	}
	if tr.durBad {
		t.invalid(out, id, "Trace Duration is not a number.")
		return
	}
	dur, ok := durationMicros(tr.duration)
	if !ok {
		t.invalid(out, id, "Trace Duration "+strconv.FormatFloat(tr.duration, 'g', -1, 64)+" is out of range.")
		return
	}
	g := &t.g
	g.Reset()
	g.TraceID = id
	g.Duration = dur
	for _, d := range t.p.tops {
		if msg := t.addDoc(d, -1, false); msg != "" {
			t.invalid(out, id, msg)
			return
		}
	}
	t.r.reset(t.p.docs)
	if err := t.a.Analyze(g, &t.r, &t.b); err != nil {
		t.invalid(out, id, err.Error())
		return
	}
	t.line, t.scratch = tracing.AppendBreakdownRow(t.line[:0], g, &t.b, &t.r.row, t.scratch)
	out.row(true, id, t.line)
}

// durationMicros converts the trace Duration like timedelta(seconds=).
func durationMicros(sec float64) (tracing.Micros, bool) {
	if !(sec > -86400*999999999 && sec < 86400*999999999) {
		return 0, false
	}
	m, ok := tracing.SecondsToMicros(sec)
	if !ok { // beyond the datetime range but still a valid timedelta
		return tracing.Micros(sec * 1e6), true
	}
	return m, true
}

// addDoc adds document d (a segment, or a subsegment of span parent) and
// its subsegments to the graph: step 1 of the design.
func (t *traceAnalyzer) addDoc(d int32, parent int32, sub bool) string {
	doc := &t.p.docs[d]
	kind := "Segment "
	if sub {
		kind = "Subsegment "
	}
	if doc.inProgress {
		if !doc.hasID {
			return kind + "without id in progress."
		}
		return kind + string(doc.id) + " in progress."
	}
	name := "without id"
	if doc.hasID {
		name = string(doc.id)
	}
	if doc.problem != "" {
		return kind + name + " has " + doc.problem + "."
	}
	if !doc.hasStart {
		return kind + name + " has no start_time."
	}
	if !doc.hasEnd {
		return kind + name + " has no end_time."
	}
	start, ok1 := tracing.SecondsToMicros(doc.start)
	end, ok2 := tracing.SecondsToMicros(doc.end)
	if !ok1 || !ok2 {
		return kind + name + " has a start_time or end_time out of range."
	}
	if !doc.hasID {
		return kind + "without id."
	}
	g := &t.g
	i := g.Mention(doc.id)
	s := &g.Spans[i]
	s.Name, s.HasName = doc.name, doc.hasName
	s.Service, s.HasService = doc.origin, doc.hasOrigin
	s.StartRaw, s.EndRaw = doc.start, doc.end
	s.Start, s.End = start, end
	s.StartInt, s.EndInt = doc.startInt, doc.endInt
	s.Doc = d
	switch {
	case sub:
		g.AddEdge(parent, i)
	case doc.hasParent:
		g.AddEdge(g.Mention(doc.parent), i)
	default:
		g.Root = i
	}
	for k := doc.kidsOff; k < doc.kidsOff+doc.kidsLen; k++ {
		if msg := t.addDoc(t.p.kids[k], i, true); msg != "" {
			return msg
		}
	}
	return ""
}
