package tracing

import (
	"errors"
	"strings"
	"testing"
)

// testRules is a minimal provider: services "gw" and "svc" are
// orchestration, "fn" is a function (computation, always called
// synchronously, cold when it has an "Initialization" child), "db" an
// external service; spans without service inherit their parent's category.
type testRules struct{ visited int }

func (r *testRules) Visit(g *Graph, i int32) error { r.visited++; return nil }

func (r *testRules) Category(g *Graph, i int32) (Category, error) {
	for {
		s := &g.Spans[i]
		if s.HasService {
			switch string(s.Service) {
			case "gw", "svc":
				return Orchestration, nil
			case "fn":
				return Computation, nil
			case "db":
				return ExternalService, nil
			}
			return Unclassified, nil
		}
		if i = g.Parent(i); i < 0 {
			return 0, &Invalid{}
		}
	}
}

func (r *testRules) AlwaysSync(g *Graph, child int32) bool {
	return string(g.Spans[child].Service) == "fn"
}

func (r *testRules) ColdStartInit(g *Graph, i int32) int32 {
	if string(g.Spans[i].Service) != "fn" {
		return -1
	}
	return g.FirstChild(i, r.IsInitialization)
}

func (r *testRules) IsInitialization(s *Span) bool { return string(s.Name) == "Initialization" }

// tree builds a Graph from spans given in milliseconds.
type tree struct{ g Graph }

func newTree(durationMs float64) *tree {
	t := &tree{}
	t.g.Reset()
	t.g.TraceID = []byte("1-test")
	t.g.Duration = ms(durationMs)
	return t
}

func ms(v float64) Micros {
	m, _ := SecondsToMicros(1000 + v/1000)
	base, _ := SecondsToMicros(1000)
	return m - base
}

// span adds a span; parent "" makes it the root, a parent not yet added
// becomes a placeholder.
func (t *tree) span(id, parent, service, name string, startMs, endMs float64) *tree {
	i := t.g.Mention([]byte(id))
	s := &t.g.Spans[i]
	s.Name, s.HasName = []byte(name), name != ""
	s.Service, s.HasService = []byte(service), service != ""
	s.StartRaw, s.EndRaw = 1000+startMs/1000, 1000+endMs/1000
	s.Start, _ = SecondsToMicros(s.StartRaw)
	s.End, _ = SecondsToMicros(s.EndRaw)
	s.Doc = i
	if parent == "" {
		t.g.Root = i
	} else {
		t.g.AddEdge(t.g.Mention([]byte(parent)), i)
	}
	return t
}

func (t *tree) analyze() (*Breakdown, error) {
	var a Analyzer
	b := &Breakdown{}
	err := a.Analyze(&t.g, &testRules{}, b)
	return b, err
}

func (t *tree) path(b *Breakdown) string {
	var ids []string
	for _, i := range b.Path {
		ids = append(ids, string(t.g.Spans[i].ID))
	}
	return strings.Join(ids, " ")
}

// totals renders the non-empty categories, e.g. "orchestration=20ms".
func totals(b *Breakdown) string {
	var parts []string
	for c := Category(0); c < NumCategories; c++ {
		if b.Has[c] {
			parts = append(parts, c.String()+"="+FormatTimedelta(b.Totals[c]))
		}
	}
	return strings.Join(parts, " ")
}

func TestBreakdownBranches(t *testing.T) {
	cases := []struct {
		name, path, totals string
		cold               int
		tree               *tree
	}{{
		// sync-send into a child, its span, the sync return to the root.
		name: "sync send and return",
		tree: newTree(100).span("R", "", "gw", "api", 0, 100).span("F", "R", "fn", "f", 10, 90),
		path: "R F", totals: "orchestration=0:00:00.020000 computation=0:00:00.080000 unclassified=0:00:00",
	}, {
		// R triggers A asynchronously (A outlives R); the time between is
		// the trigger; A's synchronous child returns into A.
		name: "async trigger",
		tree: newTree(120).span("R", "", "gw", "api", 0, 50).span("A", "R", "db", "queue", 20, 120).
			span("B", "A", "fn", "f", 30, 110),
		path:   "R A B",
		totals: "orchestration=0:00:00.020000 trigger=0:00:00 computation=0:00:00.080000 external_service=0:00:00.020000 unclassified=0:00:00",
	}, {
		// After C, the next path span P2 is not C's child: C's span, the
		// climb back to P1 (which ends before P2 starts), then the gap up
		// to P2 in the category of P2's parent.
		name: "sync receive climb",
		tree: newTree(100).span("R", "", "gw", "api", 0, 100).span("P1", "R", "db", "t1", 10, 40).
			span("C", "P1", "fn", "f", 15, 30).span("P2", "R", "db", "t2", 50, 90),
		path:   "R P1 C P2",
		totals: "orchestration=0:00:00.030000 computation=0:00:00.015000 external_service=0:00:00.055000 unclassified=0:00:00",
	}, {
		// Cold start as the path's end: container and runtime
		// initialization, then the function's span and the climb back.
		name: "cold start without following span",
		tree: newTree(1000).span("R", "", "gw", "api", 0, 1000).span("L", "R", "svc", "lambda", 5, 995).
			span("F", "L", "fn", "f", 400, 990).span("I", "F", "", "Initialization", 100, 395),
		path: "R L F I", cold: 1,
		totals: "orchestration=0:00:00.020000 container_initialization=0:00:00.095000 runtime_initialization=0:00:00.295000 computation=0:00:00.590000 unclassified=0:00:00",
	}, {
		// Cold start followed by a call from the function.
		name: "cold start with following span",
		tree: newTree(1000).span("R", "", "gw", "api", 0, 1000).span("L", "R", "svc", "lambda", 5, 995).
			span("F", "L", "fn", "f", 400, 990).span("I", "F", "", "Initialization", 100, 395).
			span("D", "F", "db", "table", 500, 600),
		path: "R L F I D", cold: 1,
		totals: "orchestration=0:00:00.020000 container_initialization=0:00:00.095000 runtime_initialization=0:00:00.295000 computation=0:00:00.490000 external_service=0:00:00.100000 unclassified=0:00:00",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.tree.analyze()
			if err != nil {
				t.Fatalf("invalid: %v", err)
			}
			if got := c.tree.path(b); got != c.path {
				t.Errorf("path %q, want %q", got, c.path)
			}
			if got := totals(b); got != c.totals {
				t.Errorf("totals\n got %s\nwant %s", got, c.totals)
			}
			if b.ColdStarts != c.cold {
				t.Errorf("cold starts %d, want %d", b.ColdStarts, c.cold)
			}
			var sum Micros
			for _, v := range b.Totals {
				sum += v
			}
			if sum != c.tree.g.Duration {
				t.Errorf("categories sum to %v, want the trace duration %v", sum, c.tree.g.Duration)
			}
		})
	}
}

func TestBreakdownInvalid(t *testing.T) {
	cases := []struct {
		name, msg string
		tree      *tree
	}{{
		name: "placeholder first",
		tree: func() *tree {
			t := newTree(10)
			t.g.Mention([]byte("P"))
			return t.span("R", "", "gw", "api", 0, 10)
		}(),
		msg: "Node P has empty attributes.",
	}, {
		name: "missing parent",
		tree: newTree(10).span("R", "", "gw", "api", 0, 10).span("C", "P", "fn", "f", 1, 9),
		msg:  "Incomplete trace 1-test because the parent node P of node C is empty.",
	}, {
		name: "no root",
		tree: newTree(10).span("A", "B", "gw", "api", 0, 10).span("B", "A", "fn", "f", 1, 9),
		msg:  "Logical root node missing.",
	}, {
		name: "root starts late",
		tree: newTree(10).span("R", "", "gw", "api", 1, 10).span("C", "R", "fn", "f", 0, 9),
		msg:  "Logical first trace segment R does not match the earliest time (sub)segment C. Ensure that the trace is fully connected and there are no clock issues.",
	}, {
		name: "duration mismatch",
		tree: newTree(12).span("R", "", "gw", "api", 0, 10),
		msg:  "Trace duration 0:00:00.012000 does not match the calculated trace duration 0:00:00.010000 based on start and end times. Ensure that the trace is fully connected and there are no clock issues.",
	}, {
		name: "loop above the latest span",
		tree: newTree(20).span("R", "", "gw", "api", 0, 10).span("A", "B", "db", "a", 1, 20).span("B", "A", "db", "b", 2, 5),
		msg:  "Detected infinite loop starting from node A",
	}, {
		name: "negative time",
		tree: newTree(200).span("R", "", "gw", "api", 0, 50).span("X", "R", "db", "x", 30, 40).span("A", "X", "db", "a", 15, 200),
		msg:  "Negative time difference between current (X) and next (A) segment.",
	}, {
		name: "path ends without target",
		tree: newTree(120).span("R", "", "gw", "api", 0, 50).span("A", "R", "db", "queue", 20, 120),
		msg:  "'target'",
	}, {
		name: "initialization without cold start",
		tree: newTree(100).span("R", "", "gw", "api", 0, 100).span("I", "R", "", "Initialization", 10, 90),
		msg:  "num_cold_starts (0) does not match the number of initialization segments (1).",
	}, {
		// A function is always called synchronously, even when it ends 3 ms
		// after its caller: its return into the root goes back in time and
		// the breakdown falls short of the duration.
		name: "breakdown exceeds duration",
		tree: newTree(103).span("R", "", "gw", "api", 0, 100).span("F", "R", "fn", "f", 10, 103),
		msg:  "Trace duration 0:00:00.103000 does not match latency breakdown 0:00:00.100000 within margin 0:00:00.001001.",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.tree.analyze()
			var inv *Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("got %v, want invalid %q", err, c.msg)
			}
			if inv.Msg != c.msg {
				t.Errorf("message\n got %q\nwant %q", inv.Msg, c.msg)
			}
		})
	}
}

func TestSecondsToMicros(t *testing.T) {
	cases := []struct {
		in   float64
		want Micros
	}{
		{1606220832.0, 1606220832_000000},
		{1606220837.766, 1606220837_766000},
		// The double is 1619760991.91658854...: scaling its fraction gives
		// ...916589, while rounding the decimal text "...9165885" half to
		// even would give ...916588.
		{1619760991.9165885, 1619760991_916589},
		{14.963, 14_963000},
		{0.0000005, 0},  // half to even
		{0.0000015, 2},  // half to even
		{-0.001, -1000}, // negative fractions stay exact
	}
	for _, c := range cases {
		got, ok := SecondsToMicros(c.in)
		if !ok || got != c.want {
			t.Errorf("SecondsToMicros(%v) = %d, %v; want %d", c.in, got, ok, c.want)
		}
	}
	if _, ok := SecondsToMicros(1e20); ok {
		t.Error("1e20 seconds accepted")
	}
}

func TestFormats(t *testing.T) {
	td := []struct {
		in   Micros
		want string
	}{
		{0, "0:00:00"}, {14963000, "0:00:14.963000"}, {-1000, "-1 day, 23:59:59.999000"},
		{usPerDay, "1 day, 0:00:00"}, {2*usPerDay + 3_600_000_001, "2 days, 1:00:00.000001"},
		{-2 * usPerDay, "-2 days, 0:00:00"},
	}
	for _, c := range td {
		if got := FormatTimedelta(c.in); got != c.want {
			t.Errorf("FormatTimedelta(%d) = %q, want %q", c.in, got, c.want)
		}
	}
	fl := []struct {
		in   float64
		want string
	}{
		{1606220832.0, "1606220832.0"}, {1619794900.8851886, "1619794900.8851886"}, {1619794900.85, "1619794900.85"},
		{1e16, "1e+16"}, {1234567890123456.0, "1234567890123456.0"}, {0.0001, "0.0001"}, {0.00001, "1e-05"},
		{-2.5, "-2.5"}, {0, "0.0"},
	}
	for _, c := range fl {
		if got := string(AppendPyFloat(nil, c.in)); got != c.want {
			t.Errorf("AppendPyFloat(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	js := []struct{ in, want string }{
		{"plain", `"plain"`}, {`q"b\`, `"q\"b\\"`}, {"é", `"\u00e9"`}, {"😀", `"\ud83d\ude00"`},
		{"\x7f\x01\n", `"\u007f\u0001\n"`}, {"\xff", `"\ufffd"`},
	}
	for _, c := range js {
		if got := string(AppendPyJSONString(nil, []byte(c.in))); got != c.want {
			t.Errorf("AppendPyJSONString(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	csv := []struct{ in, want string }{
		{"a", "a"}, {"a,b", `"a,b"`}, {`say "x"`, `"say ""x"""`}, {"l1\nl2", "\"l1\nl2\""}, {"", ""},
	}
	for _, c := range csv {
		if got := string(AppendCSVField(nil, []byte(c.in))); got != c.want {
			t.Errorf("AppendCSVField(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestGraphIndexesManySpans(t *testing.T) {
	var g Graph
	g.Reset()
	// More spans than the scan threshold, mixing packed and other ids.
	for i := 0; i < 200; i++ {
		id := []byte(strings.Repeat("0", 12) + string("0123456789abcdef"[i%16]) + string("0123456789abcdef"[i/16%16]) + "00")
		if i%3 == 0 {
			id = []byte("span-" + string(rune('A'+i%26)) + string(rune('a'+i/26)))
		}
		if got := g.Mention(id); got != int32(i) {
			t.Fatalf("span %d (%s) got index %d", i, id, got)
		}
		if again := g.Mention(id); again != int32(i) {
			t.Fatalf("span %d mentioned twice got %d", i, again)
		}
	}
	if g.Lookup([]byte("ffffffffffffffff")) != -1 {
		t.Error("unknown id found")
	}
	g.Reset()
	if len(g.Spans) != 0 || g.Lookup([]byte("span-Aa")) != -1 {
		t.Error("Reset kept spans")
	}
}
