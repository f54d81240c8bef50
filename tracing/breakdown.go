package tracing

import (
	"cmp"
	"slices"
)

// Category is a column of the latency breakdown.
type Category uint8

// The breakdown categories, in CSV column order.
const (
	Orchestration Category = iota
	Trigger
	ContainerInitialization
	RuntimeInitialization
	Computation
	Queuing
	Overhead
	ExternalService
	Unclassified
	NumCategories
)

var categoryNames = [NumCategories]string{
	"orchestration", "trigger", "container_initialization", "runtime_initialization",
	// "queing" (sic) is the column name existing analysis scripts read.
	"computation", "queing", "overhead", "external_service", "unclassified",
}

// String returns the category's CSV column name.
func (c Category) String() string {
	if c < NumCategories {
		return categoryNames[c]
	}
	return "unknown"
}

// The two tolerances of the algorithm, as durations and as the float
// seconds added to raw timestamps.
const (
	Margin           Micros  = 1001
	Threshold        Micros  = 10000
	marginSeconds    float64 = 0.001001
	thresholdSeconds float64 = 0.01
)

// Invalid is the error that marks a trace as invalid; its text is the
// message written to invalid_traces.csv (it may be empty, as in the
// reference for a missing parent).
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return e.Msg }

func invalid(parts ...any) *Invalid {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		case Micros:
			b = AppendTimedelta(b, v)
		case int:
			b = appendInt(b, v)
		}
	}
	return &Invalid{Msg: string(b)}
}

func appendInt(b []byte, v int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// errNoParent is the reference's failure when the algorithm needs the
// parent of a root span: an empty message.
var errNoParent = &Invalid{}

// Rules are the provider's judgements the algorithm relies on.
type Rules interface {
	// Visit is called for every span, in span order, while the whole-trace
	// facts are collected (step 2), after its invocation type is known. A
	// provider collects its own facts here (services, URL, error flags); an
	// error makes the trace invalid.
	Visit(g *Graph, i int32) error
	// Category returns the category of span i's own time.
	Category(g *Graph, i int32) (Category, error)
	// AlwaysSync reports whether a call into child is synchronous whatever
	// its timestamps say (X-Ray: a Lambda function under its Lambda service
	// segment).
	AlwaysSync(g *Graph, child int32) bool
	// ColdStartInit returns the runtime-initialization child of span i when
	// i is a cold-started function, else -1.
	ColdStartInit(g *Graph, i int32) int32
	// IsInitialization reports whether a span on the critical path counts as
	// an initialization span (checked against the number of cold starts).
	IsInitialization(s *Span) bool
}

// Invocation types of a span relative to its parent.
const (
	invClient uint8 = iota
	invSync
	invAsync
)

// Breakdown is the result for one valid trace. Slices alias the Analyzer's
// buffers and are valid until its next Analyze.
type Breakdown struct {
	// Earliest and Latest are the spans with the earliest start and the
	// latest end; Start and End their raw timestamps.
	Earliest, Latest int32
	Start, End       float64
	StartInt, EndInt bool // Start/End were integers (see Span.StartInt)
	ColdStarts       int
	// Path is the critical path, span indices in order (a span may repeat).
	Path []int32
	// Totals per category; Has tells which categories had an entry at all
	// (an absent category is an empty CSV cell, unlike a zero one).
	Totals [NumCategories]Micros
	Has    [NumCategories]bool
}

type entry struct {
	start, end Micros
	cat        Category
	target     int32 // -1: the entry has no target (a plain span)
}

// Analyzer runs the breakdown; it keeps its buffers between traces.
// An Analyzer is not safe for concurrent use.
type Analyzer struct {
	inv     []uint8
	onPath  []bool
	stack   []int32
	path    []int32
	kids    []int32
	entries []entry
	calls   int
	g       *Graph
	r       Rules
	cold    int
}

// maxCalls bounds the critical-path search, which can explode on a graph
// where spans have several parents.
const maxCalls = 1 << 20

// Analyze computes the breakdown of g (steps 2–5 of the design). An error of
// type *Invalid says why the trace is invalid; the Breakdown is only
// meaningful when the error is nil.
func (a *Analyzer) Analyze(g *Graph, r Rules, b *Breakdown) error {
	a.g, a.r = g, r
	defer func() { a.g, a.r = nil, nil }()
	*b = Breakdown{Earliest: -1, Latest: -1}
	n := len(g.Spans)
	a.inv = slices.Grow(a.inv[:0], n)[:n]
	a.onPath = slices.Grow(a.onPath[:0], n)[:n]
	clear(a.onPath)

	// Step 2: whole-trace facts.
	earliest, latest := int32(-1), int32(-1)
	for i := int32(0); i < int32(n); i++ {
		s := &g.Spans[i]
		if !s.HasDoc() {
			return invalid("Node ", s.ID, " has empty attributes.")
		}
		if p := s.parent; p >= 0 {
			if !g.Spans[p].HasDoc() {
				return invalid("Incomplete trace ", g.TraceID, " because the parent node ",
					g.Spans[p].ID, " of node ", s.ID, " is empty.")
			}
			if a.isAsync(p, i) {
				a.inv[i] = invAsync
			} else {
				a.inv[i] = invSync
			}
		} else {
			a.inv[i] = invClient
		}
		if earliest < 0 || s.StartRaw < g.Spans[earliest].StartRaw {
			earliest = i
		}
		if latest < 0 || s.EndRaw > g.Spans[latest].EndRaw {
			latest = i
		}
		if err := r.Visit(g, i); err != nil {
			return err
		}
	}
	if g.Root < 0 {
		return &Invalid{Msg: "Logical root node missing."}
	}
	if g.Root != earliest {
		return invalid("Logical first trace segment ", g.Spans[g.Root].ID,
			" does not match the earliest time (sub)segment ", g.Spans[earliest].ID,
			". Ensure that the trace is fully connected and there are no clock issues.")
	}
	start, end := &g.Spans[earliest], &g.Spans[latest]
	calculated := end.End - start.Start
	if abs(g.Duration-calculated) > Margin {
		return invalid("Trace duration ", g.Duration, " does not match the calculated trace duration ",
			calculated, " based on start and end times. Ensure that the trace is fully connected and there are no clock issues.")
	}
	b.Earliest, b.Latest = earliest, latest
	b.Start, b.End = start.StartRaw, end.EndRaw
	b.StartInt, b.EndInt = start.StartInt, end.EndInt

	// Step 3: call stack from the latest-ending span up to its root, then
	// the longest path from the logical root.
	a.stack = a.stack[:0]
	for i := latest; i >= 0; i = g.Spans[i].parent {
		if a.onPath[i] {
			return invalid("Detected infinite loop starting from node ", g.Spans[i].ID)
		}
		a.onPath[i] = true
		a.stack = append(a.stack, i)
	}
	clear(a.onPath)
	a.path = a.path[:0]
	a.kids = a.kids[:0]
	a.calls = 0
	if err := a.longestPath(g.Root); err != nil {
		return err
	}
	b.Path = a.path

	// Step 4: walk the critical path.
	a.entries = a.entries[:0]
	a.cold = 0
	for pos := 0; pos < len(a.path); {
		cur := a.path[pos]
		pos++
		if pos < len(a.path) {
			if err := a.pair(cur, a.path[pos], &pos); err != nil {
				return err
			}
			continue
		}
		c := &g.Spans[cur]
		cat, err := r.Category(g, cur)
		if err != nil {
			return err
		}
		a.add(c.Start, c.End, cat, -1)
		if err := a.syncReturn(cur); err != nil {
			return err
		}
	}
	b.ColdStarts = a.cold

	// Step 5: totals and checks.
	var sum Micros
	for _, e := range a.entries {
		d := e.end - e.start
		b.Totals[e.cat] += d
		b.Has[e.cat] = true
		sum += d
		if sum != e.end-start.Start {
			return invalid("Summed duration ", sum, " does not match difference to trace start_time.")
		}
	}
	b.Has[Unclassified] = true
	last := a.entries[len(a.entries)-1]
	if last.target < 0 {
		return &Invalid{Msg: "'target'"}
	}
	if t := last.target; t != latest && t != g.Root && g.Spans[t].EndRaw != end.EndRaw {
		return invalid("Segment with latest end time (", end.ID, ") does not match last target (",
			g.Spans[t].ID, ") of critical path.")
	}
	if abs(g.Duration-sum) >= Margin {
		return invalid("Trace duration ", g.Duration, " does not match latency breakdown ", sum,
			" within margin ", Margin, ".")
	}
	inits := 0
	for _, i := range a.path {
		if r.IsInitialization(&g.Spans[i]) {
			inits++
		}
	}
	if inits != a.cold {
		return invalid("num_cold_starts (", a.cold, ") does not match the number of initialization segments (", inits, ").")
	}
	return nil
}

func abs(d Micros) Micros {
	if d < 0 {
		return -d
	}
	return d
}

// isAsync is the reference's heuristic: a child that ends more than the
// margin after its parent was called asynchronously.
func (a *Analyzer) isAsync(parent, child int32) bool {
	if a.r.AlwaysSync(a.g, child) {
		return false
	}
	return a.g.Spans[parent].EndRaw-a.g.Spans[child].EndRaw+marginSeconds < 0
}

func (a *Analyzer) add(start, end Micros, cat Category, target int32) {
	a.entries = append(a.entries, entry{start: start, end: end, cat: cat, target: target})
}

func (a *Analyzer) top() int32 {
	if len(a.stack) == 0 {
		return -1
	}
	return a.stack[len(a.stack)-1]
}

// longestPath appends LP(n) to a.path. Sharing one path slice is
// equivalent to the reference's concatenation of sub-paths, whose
// conditions only ever look at the last element appended so far.
func (a *Analyzer) longestPath(n int32) error {
	g := a.g
	if a.onPath[n] {
		return invalid("Detected infinite loop starting from node ", g.Spans[n].ID)
	}
	if a.calls++; a.calls > maxCalls {
		return invalid("Critical path of trace ", g.TraceID, " is too long to analyse.")
	}
	a.path = append(a.path, n)
	if g.Spans[n].childCount == 0 {
		return nil
	}
	if a.top() == n {
		a.stack = a.stack[:len(a.stack)-1]
	}
	base := len(a.kids)
	a.kids = g.AppendChildren(a.kids, n)
	kids := a.kids[base:]
	slices.SortStableFunc(kids, func(x, y int32) int {
		sx, sy := &g.Spans[x], &g.Spans[y]
		if c := cmp.Compare(sx.EndRaw, sy.EndRaw); c != 0 {
			return c
		}
		return cmp.Compare(sx.StartRaw, sy.StartRaw)
	})
	last := kids[len(kids)-1]
	nEnd := g.Spans[n].EndRaw
	a.onPath[n] = true
	for _, k := range kids {
		if g.Spans[k].EndRaw <= g.Spans[last].StartRaw && g.Spans[a.path[len(a.path)-1]].EndRaw <= nEnd {
			if err := a.longestPath(k); err != nil {
				return err
			}
		}
	}
	if a.isAsync(n, last) {
		if a.top() == last {
			if err := a.longestPath(last); err != nil {
				return err
			}
		}
	} else if g.Spans[a.path[len(a.path)-1]].EndRaw <= nEnd {
		if err := a.longestPath(last); err != nil {
			return err
		}
	}
	a.onPath[n] = false
	a.kids = a.kids[:base]
	return nil
}

func (a *Analyzer) loop(i int32) error {
	return invalid("Detected infinite loop starting from node ", a.g.Spans[i].ID)
}

// syncReturn appends the synchronous returns from x up through its callers.
func (a *Analyzer) syncReturn(x int32) error {
	g := a.g
	for steps := 0; ; steps++ {
		p := g.Spans[x].parent
		if p < 0 || a.inv[x] != invSync {
			return nil
		}
		if steps > len(g.Spans) {
			return a.loop(x)
		}
		cat, err := a.r.Category(g, p)
		if err != nil {
			return err
		}
		a.add(g.Spans[x].End, g.Spans[p].End, cat, p)
		x = p
	}
}

// pair appends the critical sub-path between consecutive path spans cur and
// nxt; pos is the cursor, which the cold-start case advances.
func (a *Analyzer) pair(cur, nxt int32, pos *int) error {
	g, r := a.g, a.r
	c, x := &g.Spans[cur], &g.Spans[nxt]
	if init := r.ColdStartInit(g, nxt); init >= 0 {
		a.cold++
		in := &g.Spans[init]
		a.add(c.Start, in.Start, ContainerInitialization, -1)
		a.add(in.Start, in.End, RuntimeInitialization, -1)
		cat, err := r.Category(g, cur)
		if err != nil {
			return err
		}
		a.add(in.End, x.Start, cat, nxt)
		// Consume nxt and the span after it (normally the initialization).
		*pos++
		if *pos < len(a.path) {
			*pos++
		}
		if *pos < len(a.path) {
			return a.pair(nxt, a.path[*pos], pos)
		}
		cat, err = r.Category(g, nxt)
		if err != nil {
			return err
		}
		a.add(x.Start, x.End, cat, -1)
		ch := nxt
		p := g.Spans[ch].parent
		if p < 0 {
			return errNoParent
		}
		for steps := 0; g.Spans[p].EndRaw >= g.Spans[ch].EndRaw; steps++ {
			if steps > len(g.Spans) {
				return a.loop(p)
			}
			cat, err := r.Category(g, p)
			if err != nil {
				return err
			}
			a.add(g.Spans[ch].End, g.Spans[p].End, cat, p)
			ch = p
			if p = g.Spans[ch].parent; p < 0 {
				break
			}
		}
		return nil
	}
	if a.inv[nxt] == invAsync {
		// The caller's own time ends where the callee starts if it
		// overlaps; the rest is the trigger.
		early := c.End
		if x.StartRaw < c.EndRaw {
			early = x.Start
		}
		cat, err := r.Category(g, cur)
		if err != nil {
			return err
		}
		a.add(c.Start, early, cat, -1)
		if x.StartRaw-c.StartRaw+thresholdSeconds < 0 {
			return invalid("Negative time difference between current (", c.ID, ") and next (", x.ID, ") segment.")
		}
		a.add(early, x.Start, Trigger, nxt)
		return nil
	}
	if x.parent == cur {
		cat, err := r.Category(g, cur)
		if err != nil {
			return err
		}
		a.add(c.Start, x.Start, cat, nxt)
		return nil
	}
	cat, err := r.Category(g, cur)
	if err != nil {
		return err
	}
	a.add(c.Start, c.End, cat, -1)
	ch := cur
	p := c.parent
	if p < 0 {
		return errNoParent
	}
	for steps := 0; g.Spans[p].EndRaw <= x.StartRaw; steps++ {
		if steps > len(g.Spans) {
			return a.loop(p)
		}
		cat, err := r.Category(g, p)
		if err != nil {
			return err
		}
		a.add(g.Spans[ch].End, g.Spans[p].End, cat, p)
		ch = p
		if p = g.Spans[ch].parent; p < 0 {
			return errNoParent
		}
	}
	if x.parent < 0 {
		return errNoParent
	}
	cat, err = r.Category(g, x.parent)
	if err != nil {
		return err
	}
	a.add(g.Spans[ch].End, x.Start, cat, nxt)
	return nil
}
