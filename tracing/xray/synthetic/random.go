package synthetic

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"strconv"
)

// WriteRandom writes n small random traces, one per line: a few spans with
// random origins, names, nesting, timing (including clock skew and
// asynchronous calls), segment order and the occasional defect (in
// progress, missing parent, missing root, wrong duration). They are not
// realistic; they reach every branch of the breakdown and its checks, for
// robustness tests and comparisons with other implementations.
func WriteRandom(w io.Writer, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := 0; i < n; i++ {
		b, err := json.Marshal(randomTrace(rng, i))
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

var (
	randomOrigins = []string{"AWS::ApiGateway::Stage", "AWS::Lambda", "AWS::Lambda::Function", "AWS::Lambda::Function",
		"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::StepFunctions::StateMachine", "Custom::Thing", "", "", ""}
	randomNames = []string{"Initialization", "Invocation", "Overhead", "Dwell Time", "Attempt #1", "S3", "handler"}
)

type randomSpan struct {
	doc    map[string]any
	parent int
	sub    bool
	start  int64 // ms
	end    int64
}

func randomTrace(rng *rand.Rand, i int) traceJSON {
	n := 2 + rng.IntN(6)
	spans := make([]*randomSpan, n)
	base := int64(1_600_000_000_000) + int64(i)*10_000
	for k := range spans {
		s := &randomSpan{parent: -1, doc: map[string]any{}}
		id := ""
		for j := 0; j < 16; j++ {
			id += string("0123456789abcdef"[rng.IntN(16)])
		}
		if rng.IntN(20) == 0 {
			id = "span-" + strconv.Itoa(k)
		}
		s.doc["id"] = id
		s.doc["name"] = randomNames[rng.IntN(len(randomNames))]
		if o := randomOrigins[rng.IntN(len(randomOrigins))]; o != "" {
			s.doc["origin"] = o
			if o == "AWS::ApiGateway::Stage" {
				s.doc["http"] = map[string]any{"request": map[string]any{"url": "https://example.com/" + strconv.Itoa(k)}}
			}
		}
		if k == 0 {
			s.start = base
			s.end = base + 50 + rng.Int64N(500)
		} else {
			s.parent = rng.IntN(k)
			p := spans[s.parent]
			s.start = p.start + rng.Int64N(p.end-p.start+1) - int64(rng.IntN(4)/3)*rng.Int64N(30)
			switch rng.IntN(4) {
			case 0: // asynchronous: outlives its parent
				s.end = p.end + 1 + rng.Int64N(300)
			case 1: // ends with its parent, give or take the clock
				s.end = p.end + rng.Int64N(5) - 2
			default:
				s.end = s.start + rng.Int64N(p.end-s.start+1)
			}
			if s.end < s.start {
				s.end = s.start
			}
			s.sub = rng.IntN(2) == 0
		}
		for _, f := range []string{"error", "fault", "throttle"} {
			if rng.IntN(10) == 0 {
				s.doc[f] = true
			}
		}
		spans[k] = s
	}
	var maxEnd int64
	for _, s := range spans {
		maxEnd = max(maxEnd, s.end)
		s.doc["start_time"] = stamp(rng, s.start)
		s.doc["end_time"] = stamp(rng, s.end)
	}
	// Nest subsegments in their parents' documents, children first so that
	// a child's own subsegments are in place when it is attached.
	for k := n - 1; k > 0; k-- {
		s := spans[k]
		if s.sub {
			p := spans[s.parent].doc
			subs, _ := p["subsegments"].([]any)
			p["subsegments"] = append([]any{s.doc}, subs...)
		}
	}
	var docs []map[string]any
	for k, s := range spans {
		if k > 0 && s.sub {
			continue
		}
		if k > 0 {
			s.doc["parent_id"] = parentID(spans, s.parent)
		}
		docs = append(docs, s.doc)
	}
	switch rng.IntN(25) {
	case 0:
		docs[len(docs)-1]["in_progress"] = true
	case 1:
		docs = docs[1:] // root segment lost
	case 2:
		if len(docs) > 1 {
			docs[1]["parent_id"] = "0000000000000000" // parent never sent
		}
	}
	rng.Shuffle(len(docs), func(a, b int) { docs[a], docs[b] = docs[b], docs[a] })
	t := traceJSON{ID: "1-" + strconv.FormatInt(base/1000, 16) + "-" + strconv.Itoa(i), LimitExceeded: false}
	dur := maxEnd - base
	if rng.IntN(20) == 0 {
		dur += 3
	}
	t.Duration = json.Number(strconv.FormatFloat(float64(dur)/1000, 'f', -1, 64))
	for _, d := range docs {
		b, _ := json.Marshal(d)
		t.Segments = append(t.Segments, segmentJSON{ID: d["id"].(string), Document: string(b)})
	}
	return t
}

// parentID is the id a segment names as its parent: the parent's own id,
// which for a nested parent is the subsegment id.
func parentID(spans []*randomSpan, p int) string { return spans[p].doc["id"].(string) }

// stamp writes ms as epoch seconds, sometimes with a microsecond part (the
// precision Lambda functions report).
func stamp(rng *rand.Rand, ms int64) json.Number {
	us := ms * 1000
	if rng.IntN(3) == 0 {
		us += rng.Int64N(1000)
	}
	return json.Number(strconv.FormatFloat(float64(us)/1e6, 'f', -1, 64))
}
