// Package synthetic generates realistic X-Ray traces, in the shape
// BatchGetTraces returns and `sb get_traces` stores, for benchmarks and
// tests. The traces resemble the applications of the ServiBench study:
// API-gateway-fronted functions with cold and warm starts and calls to
// DynamoDB or S3, S3-triggered asynchronous functions, SNS/SQS event
// pipelines and Step Functions workflows, with the bulky fields real
// documents carry (http, aws, annotations, metadata).
package synthetic

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// Options shape a generated file.
type Options struct {
	// Traces is the number of traces (lines).
	Traces int
	// Seed makes the output reproducible.
	Seed uint64
	// InvalidEvery makes every n-th trace unusable in a way real downloads
	// are (in progress, missing root segment); 0 means none.
	InvalidEvery int
}

// Write writes opt.Traces traces, one per line, to w.
func Write(w io.Writer, opt Options) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &gen{rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))}
	var line []byte
	for i := 0; i < opt.Traces; i++ {
		t := g.trace(i)
		if opt.InvalidEvery > 0 && i%opt.InvalidEvery == opt.InvalidEvery-1 {
			g.spoil(t)
		}
		var err error
		line, err = t.appendJSON(line[:0])
		if err != nil {
			return err
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Trace builds one trace line (without newline); i varies the shape.
func Trace(seed uint64, i int) []byte {
	g := &gen{rng: rand.New(rand.NewPCG(seed, uint64(i)))}
	b, _ := g.trace(i).appendJSON(nil)
	return b
}

// node is a segment or subsegment under construction; times in epoch µs.
type node struct {
	id, name, origin string
	parent           string // parent_id for separate segments
	start, end       int64
	ms               bool // timestamps with millisecond precision
	fields           map[string]any
	subs             []*node
	inProgress       bool
}

type trace struct {
	id       string
	start    int64
	segments []*node
}

type gen struct {
	rng *rand.Rand
	t   *trace
}

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *gen) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.Int64N(hi-lo+1)
}

func (g *gen) node(name, origin string, start, end int64) *node {
	return &node{id: g.hex(16), name: name, origin: origin, start: start, end: end, fields: map[string]any{}}
}

func (g *gen) segment(n *node, parent string) *node {
	n.parent = parent
	n.fields["trace_id"] = g.t.id
	g.t.segments = append(g.t.segments, n)
	return n
}

func (g *gen) uuid() string {
	return g.hex(8) + "-" + g.hex(4) + "-" + g.hex(4) + "-" + g.hex(4) + "-" + g.hex(12)
}

const account = "123456789012"

var regions = []string{"us-east-1", "eu-west-1", "us-west-2"}

func (g *gen) trace(i int) *trace {
	start := int64(1_600_000_000_000_000) + int64(i)*1_700_000 + g.between(0, 999_999)
	start -= start % 1000 // API Gateway stamps milliseconds
	g.t = &trace{id: fmt.Sprintf("1-%08x-%s", start/1_000_000, g.hex(24)), start: start}
	switch i % 5 {
	case 0, 1:
		g.apiFunction(start, i%2 == 0 && g.rng.IntN(3) == 0)
	case 2:
		g.thumbnail(start)
	case 3:
		g.eventPipeline(start)
	case 4:
		g.workflow(start)
	}
	return g.t
}

// apiGateway adds the gateway segment and its Lambda subsegment spanning
// [start, end]; it returns the subsegment.
func (g *gen) apiGateway(start, end int64, app, path, fn string) *node {
	region := regions[g.rng.IntN(len(regions))]
	api := g.hex(10)
	gw := g.segment(g.node("dev-"+app+"/dev", "AWS::ApiGateway::Stage", start, end), "")
	gw.ms = true
	gw.fields["http"] = map[string]any{
		"request": map[string]any{"url": "https://" + api + ".execute-api." + region + ".amazonaws.com/dev/" + path,
			"method": "POST", "user_agent": "k6/0.31.1 (https://k6.io/)", "client_ip": "83.187.175.142", "x_forwarded_for": true},
		"response": map[string]any{"status": 200, "content_length": 0},
	}
	gw.fields["aws"] = map[string]any{"api_gateway": map[string]any{"account_id": account, "rest_api_id": api, "stage": "dev", "request_id": g.uuid()}}
	gw.fields["annotations"] = map[string]any{"aws:api_id": api, "aws:api_stage": "dev"}
	gw.fields["metadata"] = map[string]any{"default": map[string]any{"extended_request_id": g.hex(14) + "=", "request_id": g.uuid()}}
	gw.fields["resource_arn"] = "arn:aws:apigateway:" + region + "::/restapis/" + api + "/stages/dev"
	sub := g.node("Lambda", "", start+g.between(1, 5)*1000, end)
	sub.ms = true
	sub.fields["http"] = map[string]any{
		"request":  map[string]any{"url": "https://lambda." + region + ".amazonaws.com/2015-03-31/functions/arn:aws:lambda:" + region + ":" + account + ":function:" + fn + "/invocations", "method": "POST"},
		"response": map[string]any{"status": 200, "content_length": 32},
	}
	sub.fields["aws"] = map[string]any{"function_name": fn, "region": region, "operation": "Invoke", "resource_names": []string{fn}}
	sub.fields["namespace"] = "aws"
	gw.subs = append(gw.subs, sub)
	return sub
}

// lambda adds the Lambda service segment under parent and the function
// segment under it, spanning about [start, end]. calls fill the
// invocation; it returns the function segment.
func (g *gen) lambda(parent string, start, end int64, fn string, cold bool, calls func(inv *node)) *node {
	svc := g.segment(g.node(fn, "AWS::Lambda", start, end), parent)
	svc.ms = true
	svc.fields["http"] = map[string]any{"response": map[string]any{"status": 200}}
	svc.fields["aws"] = map[string]any{"request_id": g.uuid()}
	svc.fields["resource_arn"] = "arn:aws:lambda:us-east-1:" + account + ":function:" + fn
	fStart := start + g.between(300, 2000)
	coldDelay := int64(0)
	if cold {
		coldDelay = g.between(150_000, 900_000)
		fStart += coldDelay
	}
	fEnd := end - g.between(1000, 3000)
	fnSeg := g.segment(g.node(fn, "AWS::Lambda::Function", fStart, fEnd), svc.id)
	fnSeg.fields["aws"] = map[string]any{"account_id": account, "function_arn": "arn:aws:lambda:us-east-1:" + account + ":function:" + fn, "resource_names": []string{fn}}
	if cold {
		initEnd := fStart - g.between(200, 2000)
		init := g.node("Initialization", "", start+g.between(coldDelay/8, coldDelay/4), initEnd)
		init.fields["aws"] = map[string]any{"function_arn": "arn:aws:lambda:us-east-1:" + account + ":function:" + fn}
		fnSeg.subs = append(fnSeg.subs, init)
	}
	invEnd := fEnd - g.between(200, 900)
	inv := g.node("Invocation", "", fStart+g.between(20, 200), invEnd)
	fnSeg.subs = append(fnSeg.subs, inv)
	if calls != nil {
		calls(inv)
	}
	over := g.node("Overhead", "", invEnd+g.between(10, 100), fEnd)
	fnSeg.subs = append(fnSeg.subs, over)
	return fnSeg
}

// call adds a sequential downstream call inside parent, between from and
// to, with the inferred segment X-Ray creates for it; it returns the call
// subsegment.
func (g *gen) call(parent *node, service, op string, from, to int64) *node {
	origin, name := "AWS::DynamoDB::Table", "DynamoDB"
	res := map[string]any{"operation": op, "region": "us-east-1", "request_id": g.hex(20), "retries": 0, "table_name": "app-table", "resource_names": []string{"app-table"}}
	if service == "s3" {
		origin, name = "AWS::S3::Bucket", "S3"
		res = map[string]any{"bucket_name": "app-images", "operation": op, "request_id": g.hex(16), "key": "img.png",
			"id_2": g.hex(40) + "=", "resource_names": []string{"app-images"}}
	}
	c := g.node(name, "", from, to)
	c.fields["http"] = map[string]any{"response": map[string]any{"status": 200, "content_length": g.between(0, 90000)}}
	c.fields["aws"] = res
	c.fields["namespace"] = "aws"
	parent.subs = append(parent.subs, c)
	inf := g.segment(g.node(name, origin, from, to), c.id)
	inf.fields["inferred"] = true
	inf.fields["http"] = c.fields["http"]
	inf.fields["aws"] = res
	return c
}

// calls fills inv with n sequential calls and returns the last one.
func (g *gen) calls(inv *node, service string, n int) *node {
	span := inv.end - inv.start
	step := span / int64(n+1)
	var last *node
	t := inv.start + step/4
	for k := 0; k < n; k++ {
		d := g.between(step/3, step*3/4)
		last = g.call(inv, service, []string{"GetItem", "Query", "PutObject", "GetObject"}[g.rng.IntN(4)], t, t+d)
		t += d + g.between(50, step/4+60)
	}
	return last
}

func (g *gen) apiFunction(start int64, cold bool) {
	total := g.between(25_000, 200_000)
	if cold {
		total += 1_200_000
	}
	total -= total % 1000
	fn := "realworld-dev-" + []string{"getArticle", "getComments", "followUser", "listArticles"}[g.rng.IntN(4)]
	sub := g.apiGateway(start, start+total, "realworld", "api/articles/"+g.hex(10), fn)
	lStart := sub.start + g.between(5, 20)*1000
	g.lambda(sub.id, lStart, sub.end-1000, fn, cold, func(inv *node) {
		g.calls(inv, "dynamodb", 1+g.rng.IntN(3))
	})
}

func (g *gen) thumbnail(start int64) {
	total := g.between(1_500_000, 3_000_000)
	total -= total % 1000
	sub := g.apiGateway(start, start+total, "thumbnail-generator", "upload", "thumbnail-generator-dev-upload")
	var put *node
	g.lambda(sub.id, sub.start+g.between(10, 30)*1000, sub.end-1000, "thumbnail-generator-dev-upload", false, func(inv *node) {
		put = g.calls(inv, "s3", 1)
	})
	// S3 invokes the thumbnail function asynchronously, some hundred
	// milliseconds after the upload request has been answered.
	aStart := max(put.end, sub.end) + g.between(100_000, 900_000)
	aStart -= aStart % 1000
	dwell := g.between(10, 80) * 1000
	runEnd := aStart + dwell + g.between(600_000, 2_500_000)
	runEnd -= runEnd % 1000
	svc := g.segment(g.node("thumbnail-generator-dev-thumbnail", "AWS::Lambda", aStart, aStart+g.between(20, 40)*1000), put.id)
	svc.ms = true
	svc.fields["http"] = map[string]any{"response": map[string]any{"status": 202}}
	svc.fields["aws"] = map[string]any{"request_id": g.uuid()}
	svc.fields["resource_arn"] = "arn:aws:lambda:us-east-1:" + account + ":function:thumbnail-generator-dev-thumbnail"
	dw := g.node("Dwell Time", "", aStart, aStart+dwell)
	dw.ms = true
	att := g.node("Attempt #1", "", aStart+dwell, runEnd)
	att.ms = true
	att.fields["http"] = map[string]any{"response": map[string]any{"status": 200}}
	svc.subs = append(svc.subs, dw, att)
	fStart := att.start + g.between(150_000, 600_000)
	fEnd := runEnd - g.between(1000, 30_000)
	fnSeg := g.segment(g.node("thumbnail-generator-dev-thumbnail", "AWS::Lambda::Function", fStart, fEnd), att.id)
	fnSeg.fields["aws"] = map[string]any{"account_id": account, "function_arn": "arn:aws:lambda:us-east-1:" + account + ":function:thumbnail-generator-dev-thumbnail",
		"resource_names": []string{"thumbnail-generator-dev-thumbnail"}}
	initEnd := fStart - g.between(500, 3000)
	init := g.node("Initialization", "", att.start+g.between(100_000, 140_000), initEnd)
	fnSeg.subs = append(fnSeg.subs, init)
	// Thumbnail functions without the Lambda runtime's subsegments call S3
	// directly from the function segment.
	inv := &node{start: fStart, end: fEnd}
	g.calls(inv, "s3", 1+g.rng.IntN(2))
	fnSeg.subs = append(fnSeg.subs, inv.subs...)
}

func (g *gen) eventPipeline(start int64) {
	total := g.between(90_000, 160_000)
	total -= total % 1000
	sub := g.apiGateway(start, start+total/2, "event-processing", "ingest", "event-processing-dev-ingest")
	var publish *node
	g.lambda(sub.id, sub.start+g.between(5, 12)*1000, sub.end-1000, "event-processing-dev-ingest", false, func(inv *node) {
		publish = g.node("SNS", "", inv.start+g.between(500, 2000), inv.end-g.between(200, 800))
		publish.fields["aws"] = map[string]any{"operation": "Publish", "region": "eu-west-1", "request_id": g.uuid(),
			"topic_arn": "arn:aws:sns:eu-west-1:" + account + ":event-processing-dev-ingest", "resource_names": []string{"event-processing-dev-ingest"}}
		publish.fields["namespace"] = "aws"
		inv.subs = append(inv.subs, publish)
	})
	sns := g.segment(g.node("SNS", "AWS::SNS", publish.start, publish.end-100), publish.id)
	sns.fields["inferred"] = true
	// SNS delivers to the next function asynchronously.
	end := start + total
	g.lambda(sns.id, sns.end+g.between(5, 15)*1000, end, "event-processing-dev-format_state_change", false, func(inv *node) {
		g.calls(inv, "dynamodb", 1)
	})
}

func (g *gen) workflow(start int64) {
	// The states run one after the other; their durations decide the
	// workflow's end, so the enclosing segments are closed last.
	gw := g.segment(g.node("dev-matrix-mul/dev", "AWS::ApiGateway::Stage", start, 0), "")
	gw.ms = true
	gw.fields["http"] = map[string]any{"request": map[string]any{"url": "https://" + g.hex(10) + ".execute-api.us-east-1.amazonaws.com/dev/run", "method": "POST"},
		"response": map[string]any{"status": 200}}
	sf := g.node("STEPFUNCTIONS", "", start+g.between(2, 8)*1000, 0)
	sf.ms = true
	sf.fields["aws"] = map[string]any{"operation": "StartSyncExecution", "region": "us-east-1"}
	gw.subs = append(gw.subs, sf)
	sm := g.segment(g.node("MatrixMul", "AWS::StepFunctions::StateMachine", sf.start+g.between(1, 3)*1000, 0), sf.id)
	sm.ms = true
	sm.fields["aws"] = map[string]any{"execution_arn": "arn:aws:states:us-east-1:" + account + ":execution:MatrixMul:" + g.uuid()}
	states := 1 + g.rng.IntN(3)
	t := sm.start + 2000
	for k := 0; k < states; k++ {
		cold := g.rng.IntN(4) == 0
		dur := g.between(120, 400) * 1000
		if cold {
			dur += 1_300_000
		}
		fn := "matrix-mul-dev-" + []string{"create_matrix", "mul_worker", "result_builder", "build_report"}[k%4]
		st := g.node([]string{"CreateMatrix", "MulWorker", "BuildResult", "GenReport"}[k%4], "", t, t+dur)
		st.ms = true
		sm.subs = append(sm.subs, st)
		lam := g.node("Lambda", "", st.start+1000, st.end-1000)
		lam.ms = true
		lam.fields["aws"] = map[string]any{"function_name": fn, "operation": "Invoke", "region": "us-east-1"}
		st.subs = append(st.subs, lam)
		g.lambda(lam.id, lam.start+1000, lam.end, fn, cold, func(inv *node) {
			g.calls(inv, "s3", 1+g.rng.IntN(2))
		})
		t += dur + 2000
	}
	sm.end = t
	sf.end = t + 1000
	gw.end = t + 1000
}

// spoil makes a trace invalid the way incomplete downloads are.
func (g *gen) spoil(t *trace) {
	if g.rng.IntN(2) == 0 {
		t.segments[len(t.segments)-1].inProgress = true
		return
	}
	t.segments = t.segments[1:] // the root segment is missing
}

func seconds(us int64, ms bool) json.Number {
	if ms {
		us -= us % 1000
	}
	return json.Number(strconv.FormatFloat(float64(us)/1e6, 'f', -1, 64))
}

func (n *node) doc(segment bool) map[string]any {
	d := make(map[string]any, len(n.fields)+8)
	for k, v := range n.fields {
		d[k] = v
	}
	d["id"] = n.id
	if n.name != "" || segment {
		d["name"] = n.name
	}
	d["start_time"] = seconds(n.start, n.ms)
	if n.inProgress {
		d["in_progress"] = true
	} else {
		d["end_time"] = seconds(n.end, n.ms)
	}
	if n.origin != "" {
		d["origin"] = n.origin
	}
	if n.parent != "" {
		d["parent_id"] = n.parent
	}
	if len(n.subs) > 0 {
		subs := make([]any, len(n.subs))
		for k, s := range n.subs {
			subs[k] = s.doc(false)
		}
		d["subsegments"] = subs
	}
	return d
}

type segmentJSON struct {
	ID       string `json:"Id"`
	Document string `json:"Document"`
}

type traceJSON struct {
	ID            string        `json:"Id"`
	Duration      json.Number   `json:"Duration"`
	LimitExceeded bool          `json:"LimitExceeded"`
	Segments      []segmentJSON `json:"Segments"`
}

func (t *trace) appendJSON(dst []byte) ([]byte, error) {
	out := traceJSON{ID: t.id}
	end := t.start
	for _, s := range t.segments {
		doc, err := json.Marshal(s.doc(true))
		if err != nil {
			return dst, err
		}
		out.Segments = append(out.Segments, segmentJSON{ID: s.id, Document: string(doc)})
		end = max(end, maxEnd(s))
	}
	out.Duration = json.Number(strconv.FormatFloat(float64(end-t.start)/1e6, 'f', -1, 64))
	b, err := json.Marshal(out)
	return append(dst, b...), err
}

func maxEnd(n *node) int64 {
	e := n.end
	if n.ms {
		e -= e % 1000
	}
	for _, s := range n.subs {
		e = max(e, maxEnd(s))
	}
	return e
}
