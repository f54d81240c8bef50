package azure

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sb/tracing"
)

// Span kinds: rows of the two span tables, and the synthetic spans that
// let the X-Ray walk express what Application Insights leaves implicit.
const (
	kindRequest uint8 = iota
	kindDependency
	// kindOperation is the operation itself, the caller of its first
	// request (whose ParentId is the operation id, or an id outside the
	// data, e.g. the load generator's). It spans the root request, so that
	// the walk has a parent to return to, as API Gateway is in X-Ray.
	kindOperation
	// kindTrigger is the asynchronous hop to a span that outlives its
	// parent (a queue or blob write that triggers a function, a
	// fire-and-forget call). It spans from the parent's end (or the
	// child's start, if earlier) to the child's end, like X-Ray's
	// AWS::Lambda service segment: the time before the child starts is
	// `trigger`, and a cold start is measured from it.
	kindTrigger
	// kindInit is a cold-started request's initialization, a child of the
	// request placed before it (X-Ray's Initialization subsegment).
	kindInit
)

// Names of the synthetic spans in longest_path_names.
const (
	nameOperation = "operation"
	nameTrigger   = "trigger"
	nameInit      = "Initialization"
)

// durable tells Durable Functions spans apart.
const (
	durableNone uint8 = iota
	durableOrchestration
	durableActivity
	durableOther
)

// span is the analysis' view of one graph node (tracing.Span.Doc indexes
// the slice of them).
type span struct {
	kind     uint8
	durable  uint8
	row      Row
	id       string
	parent   string
	name     string
	depType  string
	instance string
	start    int64 // Unix ns
	end      int64
	// childRequest: a request of the operation names this dependency as
	// its parent (the dependency triggered it).
	childRequest bool
	input        int // position in the input, for stable ordering
}

// coldFacts are the file-wide facts about cold starts: the first request
// each host instance served, found in a first pass.
type coldFacts struct {
	first map[string]firstRequest
}

type firstRequest struct {
	ns          int64
	operation   string
	request     string
	initialized bool
}

// startupMessages begin the Functions host's start-up traces.
var startupMessages = []string{"Initializing Host", "Host initialized", "Host started", "Starting Host", "Job host started", "Host lock lease acquired"}

// hostStartedIn reads the start-up time the host reports, e.g.
// "Host started (532ms)".
var hostStartedIn = regexp.MustCompile(`^(?:Host started|Host initialized|Job host started) \((\d+)ms\)`)

// isStartupTrace reports whether an AppTraces row belongs to the host's
// start-up: its message, its Host.Startup log category, or a ColdStart
// marker in its properties.
func isStartupTrace(r Row) bool {
	msg := r.str(colMessage)
	for _, p := range startupMessages {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	props := r.propsText()
	return strings.Contains(props, "Host.Startup") || strings.Contains(props, "ColdStart")
}

// startupWindow returns the interval the operation's start-up traces cover
// (ns), and the instance they came from ("" when unknown or several).
func startupWindow(op *Operation) (lo, hi int64, instance string, ok bool) {
	instances := map[string]bool{}
	for _, r := range op.Traces {
		if !isStartupTrace(r) {
			continue
		}
		ts, err := r.timeNs()
		if err != nil {
			continue
		}
		from := ts
		if m := hostStartedIn.FindStringSubmatch(r.str(colMessage)); m != nil {
			if n, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				from = ts - n*1e6
			}
		}
		if !ok || from < lo {
			lo = from
		}
		if !ok || ts > hi {
			hi = ts
		}
		ok = true
		instances[r.str(colInstance)] = true
	}
	if len(instances) == 1 {
		for k := range instances {
			instance = k
		}
	}
	return lo, hi, instance, ok
}

func classifyDurable(r Row, name string) uint8 {
	t := strings.ToLower(r.property("durabletask.type"))
	switch {
	case strings.HasPrefix(name, "orchestration:") || strings.HasPrefix(name, "create_orchestration:") ||
		strings.HasPrefix(name, "suborchestration:") || t == "orchestration":
		return durableOrchestration
	case strings.HasPrefix(name, "activity:") || t == "activity":
		return durableActivity
	case t != "":
		return durableOther
	}
	return durableNone
}

// builder turns one operation into a tracing.Graph.
type builder struct {
	spans []span
	ids   [][]byte
}

// build fills g from op. It returns the number of cold starts that the
// breakdown cannot place on the time line (a cold-started first request,
// whose initialization happened before the operation began), or an
// *tracing.Invalid explaining why the operation cannot be analysed.
func (b *builder) build(op *Operation, g *tracing.Graph, cold *coldFacts) (extraCold int, err error) {
	g.Reset()
	b.spans = b.spans[:0]
	b.ids = b.ids[:0]
	g.TraceID = []byte(op.ID)
	invalid := func(format string, args ...any) (int, error) {
		return 0, &tracing.Invalid{Msg: fmt.Sprintf(format, args...)}
	}
	if op.ID == "" {
		return invalid("Operation without operation_Id.")
	}
	if len(op.Requests)+len(op.Dependencies) == 0 {
		return invalid("Operation %s has no requests or dependencies (only %d traces): nothing to analyse.", op.ID, len(op.Traces))
	}

	// Rows → spans.
	items := make([]span, 0, len(op.Requests)+len(op.Dependencies))
	byID := map[string]int{}
	add := func(kind uint8, table string, n int, r Row) error {
		s := span{kind: kind, row: r, input: len(items)}
		s.id = r.str(colID)
		if s.id == "" {
			return fmt.Errorf("%s row %d of operation %s has no Id", table, n+1, op.ID)
		}
		var err error
		if s.start, err = r.timeNs(); err != nil {
			return fmt.Errorf("%s %s of operation %s %v", table, s.id, op.ID, err)
		}
		d, err := r.durationNs()
		if err != nil {
			return fmt.Errorf("%s %s of operation %s %v", table, s.id, op.ID, err)
		}
		s.end = s.start + d
		s.parent = r.str(colParent)
		s.name = r.str(colName)
		s.depType = r.str(colDepType)
		s.instance = r.str(colInstance)
		s.durable = classifyDurable(r, s.name)
		if _, dup := byID[s.id]; dup {
			return fmt.Errorf("Id %s appears twice in operation %s", s.id, op.ID)
		}
		byID[s.id] = len(items)
		items = append(items, s)
		return nil
	}
	for i, r := range op.Requests {
		if err := add(kindRequest, "request", i, r); err != nil {
			return invalid("%s.", err)
		}
	}
	for i, r := range op.Dependencies {
		if err := add(kindDependency, "dependency", i, r); err != nil {
			return invalid("%s.", err)
		}
	}

	// The root: the span whose parent is the operation itself (or none).
	// Without one, the earliest span whose caller is outside the data (an
	// instrumented client) is the root; any other span whose parent is
	// missing makes the trace incomplete.
	root := -1
	var roots []string
	children := make([][]int, len(items))
	var orphans []int
	for i := range items {
		s := &items[i]
		if s.parent == "" || s.parent == op.ID {
			roots = append(roots, s.id)
			root = i
			continue
		}
		p, ok := byID[s.parent]
		if !ok || p == i {
			orphans = append(orphans, i)
			continue
		}
		children[p] = append(children[p], i)
		if s.kind == kindRequest && items[p].kind == kindDependency {
			items[p].childRequest = true
		}
	}
	if len(roots) > 1 {
		return invalid("Operation %s has %d spans without parent (%s): the trace is not connected.", op.ID, len(roots), strings.Join(roots, ", "))
	}
	if root < 0 && len(orphans) > 0 {
		earliest := orphans[0]
		for _, i := range orphans {
			if items[i].start < items[earliest].start {
				earliest = i
			}
		}
		root = earliest
		orphans = slices.DeleteFunc(orphans, func(i int) bool { return i == root })
	}
	if root < 0 {
		return invalid("Logical root node missing.")
	}
	byStart := func(x, y int) int {
		a, b := &items[x], &items[y]
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end), cmp.Compare(a.input, b.input))
	}
	for i := range children {
		slices.SortFunc(children[i], byStart)
	}
	slices.SortFunc(orphans, byStart)

	// Cold starts: the first request of a host instance, and the request
	// served right after the host start-up traces the operation holds.
	coldReq := map[int]bool{}
	for i := range items {
		s := &items[i]
		if s.kind != kindRequest || s.instance == "" {
			continue
		}
		if f, ok := cold.first[s.instance]; ok && f.operation == op.ID && f.request == s.id {
			coldReq[i] = true
		}
	}
	suLo, suHi, suInstance, hasStartup := startupWindow(op)
	if hasStartup {
		best := -1
		for i := range items {
			s := &items[i]
			if s.kind != kindRequest || (suInstance != "" && s.instance != "" && s.instance != suInstance) {
				continue
			}
			if s.start >= suHi && (best < 0 || s.start < items[best].start) {
				best = i
			}
		}
		if best >= 0 {
			coldReq[best] = true
		}
	}

	// Graph: the operation span, then the tree in depth-first order with
	// children by start time, so that a parent is always mentioned before
	// its children (the root is the earliest span on ties).
	opIdx := b.mention(g, span{kind: kindOperation, id: b.uniqueID(op.ID, byID), name: nameOperation,
		start: items[root].start, end: items[root].end, row: items[root].row})
	g.Root = opIdx
	var visit func(i int, parent int32)
	seen := make([]bool, len(items))
	visit = func(i int, parent int32) {
		seen[i] = true
		s := items[i]
		ps := &b.spans[g.Spans[parent].Doc]
		// An asynchronous child (it ends after its caller, beyond the
		// margin the walk tolerates) hangs under a trigger span.
		if s.end > ps.end+int64(tracing.Margin)*1000 && ps.kind != kindOperation {
			tStart := min(ps.end, s.start)
			t := b.mention(g, span{kind: kindTrigger, id: b.uniqueID(nameTrigger+":"+s.id, byID), name: nameTrigger,
				start: tStart, end: s.end})
			g.AddEdge(parent, t)
			parent = t
			ps = &b.spans[g.Spans[parent].Doc]
		}
		idx := b.mention(g, s)
		g.AddEdge(parent, idx)
		if coldReq[i] {
			switch {
			case ps.kind == kindOperation:
				// The request that began the operation: its start-up
				// lies before the trace, so it is only counted.
				extraCold++
			case hasStartup && ps.start <= suLo && suLo < suHi && suHi <= s.start:
				in := b.mention(g, span{kind: kindInit, id: b.uniqueID(nameInit+":"+s.id, byID), name: nameInit, start: suLo, end: suHi})
				g.AddEdge(idx, in)
			case ps.start < s.start:
				// No start-up traces to split by: the whole wait is
				// runtime initialization.
				in := b.mention(g, span{kind: kindInit, id: b.uniqueID(nameInit+":"+s.id, byID), name: nameInit, start: ps.start, end: s.start})
				g.AddEdge(idx, in)
			default:
				extraCold++
			}
		}
		for _, c := range children[i] {
			visit(c, idx)
		}
	}
	visit(root, opIdx)
	var mark func(i int)
	mark = func(i int) {
		seen[i] = true
		for _, c := range children[i] {
			mark(c)
		}
	}
	for _, i := range orphans {
		mark(i)
	}
	var lost []string
	for i := range items {
		if !seen[i] {
			lost = append(lost, items[i].id)
		}
	}
	if len(lost) > 0 {
		// Their parents lead in a circle, never to the root.
		return invalid("Operation %s: spans %s are not connected to the root (their parents form a cycle).", op.ID, strings.Join(lost, ", "))
	}
	// Spans whose parent is missing: mentioned before a placeholder for
	// the parent, so the walk reports the trace as incomplete.
	for _, i := range orphans {
		idx := b.mention(g, items[i])
		p := g.Mention([]byte(items[i].parent))
		g.AddEdge(p, idx)
	}

	// The operation's duration: first start to last end.
	first, last := g.Spans[0].Start, g.Spans[0].End
	for i := range g.Spans {
		if s := &g.Spans[i]; s.HasDoc() {
			first = min(first, s.Start)
			last = max(last, s.End)
		}
	}
	g.Duration = last - first
	return extraCold, nil
}

// uniqueID returns id, suffixed if a row already uses it.
func (b *builder) uniqueID(id string, byID map[string]int) string {
	for {
		if _, taken := byID[id]; !taken {
			return id
		}
		id += "'"
	}
}

// mention adds s as a graph node with its document.
func (b *builder) mention(g *tracing.Graph, s span) int32 {
	id := []byte(s.id)
	i := g.Mention(id)
	doc := int32(len(b.spans))
	b.spans = append(b.spans, s)
	n := &g.Spans[i]
	n.Doc = doc
	n.Name, n.HasName = []byte(s.name), true
	n.StartRaw, n.EndRaw = nsToSeconds(s.start), nsToSeconds(s.end)
	n.Start, n.End = nsToMicros(s.start), nsToMicros(s.end)
	return i
}

// nsToSeconds converts Unix ns to float epoch seconds exactly enough for
// the walk's comparisons (whole seconds and fraction added separately).
func nsToSeconds(ns int64) float64 {
	sec, frac := floorDiv(ns, 1e9)
	return float64(sec) + float64(frac)/1e9
}

// nsToMicros rounds Unix ns to whole microseconds, half to even.
func nsToMicros(ns int64) tracing.Micros {
	q, r := floorDiv(ns, 1000)
	if r > 500 || (r == 500 && q%2 != 0) {
		q++
	}
	return tracing.Micros(q)
}

func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}
