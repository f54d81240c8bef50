package tracing

// Span is one node of a trace's span graph: a segment or subsegment in X-Ray
// terms. Byte slices point into the provider's decode buffers, which stay
// untouched while the Graph is in use, so building a graph copies nothing.
type Span struct {
	ID []byte
	// Name is the span's name; HasName is false when the document had none
	// (written as null in longest_path_names).
	Name    []byte
	HasName bool
	// Service is the provider's service tag (X-Ray "origin"); HasService is
	// false when absent.
	Service    []byte
	HasService bool
	// StartRaw and EndRaw are the timestamps as decoded (epoch seconds);
	// the algorithm compares and sorts on them. Start and End are the same
	// instants in whole microseconds, which all durations are made of.
	StartRaw, EndRaw float64
	Start, End       Micros
	// StartInt and EndInt mark timestamps written as JSON integers, which
	// the reference wrote back without a decimal point.
	StartInt, EndInt bool
	// Doc is the provider's index of the span's document; -1 marks a
	// placeholder: a span that was named as a parent but never seen.
	Doc int32

	parent     int32 // source of the first edge into this span, -1 if none
	firstEdge  int32 // first outgoing edge, -1 if none
	lastEdge   int32
	childCount int32
}

// HasDoc reports whether the span's document was seen (not a placeholder).
func (s *Span) HasDoc() bool { return s.Doc >= 0 }

type edge struct {
	to   int32
	next int32
}

// Graph is the span graph of one trace. Spans are kept in the order in which
// they were first mentioned; an edge parent→child is stored once; a span's
// parent is the source of its first incoming edge and its children are its
// outgoing edges in insertion order. A Graph is reused across traces
// (Reset) so that analysing millions of traces allocates almost nothing.
type Graph struct {
	// TraceID names the trace in messages.
	TraceID []byte
	// Duration is the trace's end-to-end duration as reported by the
	// provider.
	Duration Micros
	// Spans in order of first mention.
	Spans []Span
	// Root is the logical root (a span without parent reference), -1 if none.
	Root int32

	edges []edge
	// keys[i] is span i's id packed into a uint64 when it is 16 lowercase
	// hex digits (what X-Ray generates), else noKey. Small traces are
	// indexed by scanning keys, which beats hashing; big ones switch to
	// maps once they pass indexAt spans.
	keys     []uint64
	hexIndex map[uint64]int32
	strIndex map[string]int32
	indexed  bool
}

const (
	// noKey marks ids that are not packed. The id "ffffffffffffffff"
	// packs to the same value; find tells them apart by the id itself.
	noKey   = ^uint64(0)
	indexAt = 48
)

// Reset empties the graph, keeping its memory for the next trace.
func (g *Graph) Reset() {
	g.TraceID = nil
	g.Duration = 0
	clear(g.Spans) // drop references into old decode buffers
	g.Spans = g.Spans[:0]
	g.Root = -1
	g.edges = g.edges[:0]
	g.keys = g.keys[:0]
	if g.indexed {
		clear(g.hexIndex)
		clear(g.strIndex)
		g.indexed = false
	}
}

var hexValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
	}
	return
}()

// hexKey packs an id of 16 lowercase hex digits.
func hexKey(id []byte) (uint64, bool) {
	if len(id) != 16 {
		return 0, false
	}
	var v uint64
	var bad int8
	for _, c := range id {
		h := hexValue[c]
		bad |= h
		v = v<<4 | uint64(h&0xf)
	}
	return v, bad >= 0
}

// find returns the index of the span with id (packed as k when hex), or -1.
func (g *Graph) find(id []byte, k uint64, hex bool) int32 {
	if g.indexed {
		if hex {
			if i, ok := g.hexIndex[k]; ok {
				return i
			}
			return -1
		}
		if i, ok := g.strIndex[string(id)]; ok {
			return i
		}
		return -1
	}
	if hex {
		for i, key := range g.keys {
			if key == k && len(g.Spans[i].ID) == 16 {
				if _, ok := hexKey(g.Spans[i].ID); ok {
					return int32(i)
				}
			}
		}
		return -1
	}
	for i, key := range g.keys {
		if key == noKey && string(g.Spans[i].ID) == string(id) {
			return int32(i)
		}
	}
	return -1
}

func (g *Graph) index(i int32, k uint64, hex bool) {
	if hex {
		g.hexIndex[k] = i
	} else {
		g.strIndex[string(g.Spans[i].ID)] = i
	}
}

// Lookup returns the index of the span with the given id, or -1.
func (g *Graph) Lookup(id []byte) int32 {
	k, hex := hexKey(id)
	return g.find(id, k, hex)
}

// Mention returns the index of the span with the given id, appending a
// placeholder (Doc -1) when the id is new. The caller fills in the
// document's fields when it has them.
func (g *Graph) Mention(id []byte) int32 {
	k, hex := hexKey(id)
	if i := g.find(id, k, hex); i >= 0 {
		return i
	}
	i := int32(len(g.Spans))
	g.Spans = append(g.Spans, Span{ID: id, Doc: -1, parent: -1, firstEdge: -1, lastEdge: -1})
	if !hex {
		k = noKey
	}
	g.keys = append(g.keys, k)
	switch {
	case g.indexed:
		g.index(i, k, hex)
	case len(g.Spans) > indexAt:
		if g.hexIndex == nil {
			g.hexIndex = make(map[uint64]int32)
			g.strIndex = make(map[string]int32)
		}
		g.indexed = true
		for j := range g.Spans {
			kj, hj := hexKey(g.Spans[j].ID)
			g.index(int32(j), kj, hj)
		}
	}
	return i
}

// AddEdge records that child was called by parent. A repeated edge is
// ignored; the first edge into a span makes its parent.
func (g *Graph) AddEdge(parent, child int32) {
	p := &g.Spans[parent]
	for e := p.firstEdge; e >= 0; e = g.edges[e].next {
		if g.edges[e].to == child {
			return
		}
	}
	e := int32(len(g.edges))
	g.edges = append(g.edges, edge{to: child, next: -1})
	if p.lastEdge >= 0 {
		g.edges[p.lastEdge].next = e
	} else {
		p.firstEdge = e
	}
	p.lastEdge = e
	p.childCount++
	if c := &g.Spans[child]; c.parent < 0 {
		c.parent = parent
	}
}

// Parent returns the span's parent (first incoming edge), -1 if none.
func (g *Graph) Parent(i int32) int32 { return g.Spans[i].parent }

// NumChildren returns how many children the span has.
func (g *Graph) NumChildren(i int32) int { return int(g.Spans[i].childCount) }

// AppendChildren appends the span's children in insertion order.
func (g *Graph) AppendChildren(dst []int32, i int32) []int32 {
	for e := g.Spans[i].firstEdge; e >= 0; e = g.edges[e].next {
		dst = append(dst, g.edges[e].to)
	}
	return dst
}

// FirstChild returns the first child satisfying match, -1 if none.
func (g *Graph) FirstChild(i int32, match func(*Span) bool) int32 {
	for e := g.Spans[i].firstEdge; e >= 0; e = g.edges[e].next {
		if c := g.edges[e].to; match(&g.Spans[c]) {
			return c
		}
	}
	return -1
}
