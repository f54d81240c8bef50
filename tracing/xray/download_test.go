package xray

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"sb/tracing/xray/synthetic"
)

// fakeXRay speaks X-Ray's REST-JSON protocol for the two calls Download
// makes: POST /TraceSummaries and POST /Traces.
type fakeXRay struct {
	t *testing.T
	// pages of GetTraceSummaries (ids may repeat across pages).
	pages [][]string
	// traces by id, as JSON objects in BatchGetTraces' shape.
	traces map[string]json.RawMessage
	// unprocessed ids are answered in UnprocessedTraceIds.
	unprocessed map[string]bool
	// throttleEvery makes every n-th /Traces call fail with throttling.
	throttleEvery int
	// slow delays the /Traces call for batches holding this id.
	slow      string
	slowDelay time.Duration
	// latency is added to every call.
	latency time.Duration
	// failTraces makes every /Traces call fail with AccessDenied.
	failTraces bool
	// accessKey is the key every request must be signed with.
	accessKey string
	// paginate answers batches of more than three ids in two pages.
	paginate bool

	mu                    sync.Mutex
	traceCalls, throttled int
	inFlight, maxInFlight int
	windows               [][2]float64
}

func (f *fakeXRay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(f.latency)
	auth := r.Header.Get("Authorization")
	if r.Method != http.MethodPost || !strings.Contains(auth, "Credential="+f.accessKey+"/") || !strings.Contains(auth, "/xray/aws4_request") {
		f.t.Errorf("unexpected request %s %s, Authorization %q", r.Method, r.URL.Path, auth)
		fail(w, 400, "InvalidRequestException", "bad request")
		return
	}
	var in struct {
		StartTime, EndTime float64
		TraceIds           []string
		NextToken          string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, 400, "InvalidRequestException", err.Error())
		return
	}
	switch r.URL.Path {
	case "/TraceSummaries":
		page := 0
		if in.NextToken != "" {
			fmt.Sscanf(in.NextToken, "page-%d", &page)
		} else {
			f.mu.Lock()
			f.windows = append(f.windows, [2]float64{in.StartTime, in.EndTime})
			f.mu.Unlock()
		}
		out := map[string]any{}
		var sums []map[string]any
		if page < len(f.pages) {
			for _, id := range f.pages[page] {
				sums = append(sums, map[string]any{"Id": id, "Duration": 0.5})
			}
		}
		out["TraceSummaries"] = sums
		if page+1 < len(f.pages) {
			out["NextToken"] = fmt.Sprintf("page-%d", page+1)
		}
		// Only the first window gets ids; later windows are empty.
		f.mu.Lock()
		if len(f.windows) > 1 && in.NextToken == "" {
			out = map[string]any{"TraceSummaries": []any{}}
		}
		f.mu.Unlock()
		reply(w, out)
	case "/Traces":
		f.mu.Lock()
		f.traceCalls++
		n := f.traceCalls
		f.inFlight++
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
		if len(in.TraceIds) > batchSize {
			fail(w, 400, "InvalidRequestException", "too many trace ids")
			return
		}
		seen := map[string]bool{}
		for _, id := range in.TraceIds {
			if seen[id] {
				fail(w, 400, "InvalidRequestException", "duplicate trace id "+id)
				return
			}
			seen[id] = true
			if id == f.slow {
				time.Sleep(f.slowDelay)
			}
		}
		if f.failTraces {
			fail(w, 403, "AccessDeniedException", "not authorized")
			return
		}
		if f.throttleEvery > 0 && n%f.throttleEvery == 0 {
			f.mu.Lock()
			f.throttled++
			f.mu.Unlock()
			fail(w, 429, "ThrottledException", "Rate exceeded")
			return
		}
		// Answer in two pages when the batch is big enough, like X-Ray
		// does for large traces.
		ids := in.TraceIds
		next := ""
		if f.paginate && in.NextToken == "" && len(ids) > 3 {
			ids, next = ids[:3], "rest"
		} else if f.paginate && in.NextToken == "rest" {
			ids = ids[3:]
		}
		var traces []json.RawMessage
		var unprocessed []string
		for _, id := range ids {
			if f.unprocessed[id] {
				unprocessed = append(unprocessed, id)
				continue
			}
			traces = append(traces, f.traces[id])
		}
		out := map[string]any{"Traces": traces, "UnprocessedTraceIds": unprocessed}
		if next != "" {
			out["NextToken"] = next
		}
		reply(w, out)
	default:
		fail(w, 404, "UnknownOperationException", r.URL.Path)
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// newFake serves n synthetic traces listed in pages of pageSize, the
// first ids of each page repeated from the previous one.
func newFake(t testing.TB, n, pageSize int) (*fakeXRay, []string) {
	f := &fakeXRay{traces: map[string]json.RawMessage{}, unprocessed: map[string]bool{}, accessKey: "AKIDTEST"}
	if tt, ok := t.(*testing.T); ok {
		f.t = tt
	} else {
		f.t = &testing.T{}
	}
	var ids []string
	for i := 0; i < n; i++ {
		line := synthetic.Trace(42, i)
		var head struct{ Id string }
		if err := json.Unmarshal(line, &head); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, head.Id)
		f.traces[head.Id] = line
	}
	for start := 0; start < n; start += pageSize {
		page := ids[start:min(start+pageSize, n)]
		if start > 0 {
			page = append([]string{ids[start-1]}, page...) // a duplicate
		}
		f.pages = append(f.pages, page)
	}
	return f, ids
}

func testConfig(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(url),
	}
}

func TestDownload(t *testing.T) {
	f, ids := newFake(t, 23, 10)
	f.unprocessed[ids[4]] = true
	f.unprocessed[ids[17]] = true
	f.throttleEvery = 4
	f.paginate = true
	f.slow, f.slowDelay = ids[0], 300*time.Millisecond
	srv := httptest.NewServer(f)
	defer srv.Close()

	dir := t.TempDir()
	start := time.Date(2021, 4, 30, 12, 0, 0, 0, time.UTC)
	var progress []DownloadProgress
	sum, err := Download(context.Background(), testConfig(srv.URL), DownloadOptions{
		Start: start, End: start.Add(10 * time.Minute), Dir: dir, Concurrency: 3, MaxBackoff: 5 * time.Millisecond,
		Progress: func(p DownloadProgress) { progress = append(progress, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Listed != 25 || sum.Duplicates != 2 || sum.Traces != 21 || sum.Unprocessed != 2 {
		t.Errorf("summary %+v", sum)
	}
	if f.throttled == 0 {
		t.Error("no call was throttled: the test does not exercise retries")
	}
	if f.maxInFlight > 3 {
		t.Errorf("%d BatchGetTraces calls in flight, want at most 3", f.maxInFlight)
	}
	if len(f.windows) != 1 || f.windows[0] != [2]float64{float64(start.Unix()), float64(start.Add(10 * time.Minute).Unix())} {
		t.Errorf("windows asked %v", f.windows)
	}
	listed, _ := os.ReadFile(sum.TraceIDsPath)
	if got := strings.Count(string(listed), "\n"); got != 25 {
		t.Errorf("trace_ids.txt has %d lines, want 25 (duplicates included)", got)
	}
	unproc, _ := os.ReadFile(sum.UnprocessedPath)
	if string(unproc) != ids[4]+"\n"+ids[17]+"\n" {
		t.Errorf("unprocessed_trace_ids.txt = %q", unproc)
	}
	data, err := os.ReadFile(sum.TracesPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var want []string
	for _, id := range ids {
		if !f.unprocessed[id] {
			want = append(want, id)
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("traces.json has %d lines, want %d", len(lines), len(want))
	}
	for i, l := range lines {
		var got, served struct {
			Id            string
			Duration      float64
			LimitExceeded *bool
			Segments      []struct{ Id, Document string }
		}
		json.Unmarshal([]byte(l), &got)
		json.Unmarshal(f.traces[want[i]], &served)
		if got.Id != want[i] {
			t.Fatalf("line %d holds %s, want %s (listing order)", i+1, got.Id, want[i])
		}
		if got.Duration != served.Duration || got.LimitExceeded == nil || len(got.Segments) != len(served.Segments) {
			t.Fatalf("line %d differs from the served trace: %.200s", i+1, l)
		}
		for k := range got.Segments {
			if got.Segments[k] != served.Segments[k] {
				t.Fatalf("line %d segment %d differs", i+1, k)
			}
		}
	}
	last := progress[len(progress)-1]
	if last.Listing || last.IDs != 23 || last.Fetched != 23 {
		t.Errorf("last progress %+v", last)
	}
	// The download analyses as it is.
	asum, err := AnalyzeFile(context.Background(), sum.TracesPath, AnalyzeOptions{})
	if err != nil || asum.Valid+asum.Invalid != 21 || asum.Valid == 0 {
		t.Errorf("analysis of the download: %+v %v", asum, err)
	}
}

func TestDownloadRefusesExistingTraces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, TracesFile)
	os.WriteFile(path, []byte("keep\n"), 0o644)
	_, err := Download(context.Background(), testConfig("http://127.0.0.1:1"), DownloadOptions{
		Start: time.Now().Add(-time.Hour), End: time.Now(), Dir: dir})
	if !errors.Is(err, ErrTracesExist) {
		t.Fatalf("got %v, want ErrTracesExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep\n" {
		t.Error("existing traces.json changed")
	}
}

func TestDownloadFailureWritesNoTraces(t *testing.T) {
	f, _ := newFake(t, 12, 100)
	f.failTraces = true
	srv := httptest.NewServer(f)
	defer srv.Close()
	dir := t.TempDir()
	_, err := Download(context.Background(), testConfig(srv.URL), DownloadOptions{
		Start: time.Now().Add(-time.Hour), End: time.Now(), Dir: dir, MaxBackoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("got %v, want the access error", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != TraceIDsFile {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

func TestDownloadBadOptions(t *testing.T) {
	now := time.Now()
	if _, err := Download(context.Background(), testConfig("http://127.0.0.1:1"), DownloadOptions{Start: now, End: now.Add(-time.Minute), Dir: t.TempDir()}); err == nil {
		t.Error("window ending before it starts accepted")
	}
	if _, err := Download(context.Background(), testConfig("http://127.0.0.1:1"), DownloadOptions{Start: now.Add(-time.Minute), End: now, Dir: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("missing directory accepted")
	}
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Region = ""
	if _, err := Download(context.Background(), cfg, DownloadOptions{Start: now.Add(-time.Minute), End: now, Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("missing region: %v", err)
	}
}

func TestDownloadCancel(t *testing.T) {
	f, _ := newFake(t, 40, 100)
	f.latency = 50 * time.Millisecond
	srv := httptest.NewServer(f)
	defer srv.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Download(ctx, testConfig(srv.URL), DownloadOptions{
		Start: time.Now().Add(-time.Hour), End: time.Now(), Dir: dir, Concurrency: 2,
		Progress: func(p DownloadProgress) {
			if p.Fetched > 0 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want cancellation", err)
	}
	if _, err := os.Stat(filepath.Join(dir, TracesFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("interrupted download left traces.json")
	}
}

// TestLoadConfigSharedDirAndEndpoint points the SDK's standard
// configuration at a directory of shared files (as copied from the
// aws-secrets volume) and the X-Ray endpoint at the fake via
// AWS_ENDPOINT_URL_XRAY, then downloads through it. A long window is split.
func TestLoadConfigSharedDirAndEndpoint(t *testing.T) {
	f, _ := newFake(t, 7, 100)
	f.accessKey = "AKIDFROMFILE"
	srv := httptest.NewServer(f)
	defer srv.Close()
	home := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_XRAY", srv.URL)
	secrets := t.TempDir()
	os.WriteFile(filepath.Join(secrets, "credentials"), []byte("[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = s3cret\n"), 0o600)
	os.WriteFile(filepath.Join(secrets, "config"), []byte("[default]\nregion = eu-west-1\n"), 0o600)

	cfg, err := LoadConfig(context.Background(), ConfigOptions{SharedDir: secrets})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region %q from the shared config, want eu-west-1", cfg.Region)
	}
	start := time.Date(2021, 4, 30, 0, 0, 0, 0, time.UTC)
	sum, err := Download(context.Background(), cfg, DownloadOptions{Start: start, End: start.Add(13 * time.Hour), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Traces != 7 || len(f.windows) != 3 {
		t.Errorf("summary %+v, windows %v: want 7 traces over 3 windows", sum, f.windows)
	}
	if _, err := LoadConfig(context.Background(), ConfigOptions{SharedDir: filepath.Join(secrets, "missing")}); err == nil {
		t.Error("missing settings directory accepted")
	}
	cfg, err = LoadConfig(context.Background(), ConfigOptions{SharedDir: secrets, Region: "us-west-2"})
	if err != nil || cfg.Region != "us-west-2" {
		t.Errorf("region override: %q %v", cfg.Region, err)
	}
}

// BenchmarkDownload fetches 5,000 traces from a fake X-Ray that adds 50 ms
// to every call, sequentially (one call at a time, as the reference did)
// and with Download's concurrency:
//
//	go test -run XXX -bench Download -benchtime 1x ./tracing/xray
func BenchmarkDownload(b *testing.B) {
	for _, c := range []int{1, 8, 16} {
		name := fmt.Sprintf("concurrency=%d", c)
		if c == 1 {
			name = "sequential"
		}
		b.Run(name, func(b *testing.B) {
			f, _ := newFake(b, 5000, 1000)
			f.latency = 50 * time.Millisecond
			srv := httptest.NewServer(f)
			defer srv.Close()
			for b.Loop() {
				dir := b.TempDir()
				sum, err := Download(context.Background(), testConfig(srv.URL), DownloadOptions{
					Start: time.Now().Add(-time.Hour), End: time.Now(), Dir: dir, Concurrency: c})
				if err != nil || sum.Traces != 5000 {
					b.Fatalf("%+v %v", sum, err)
				}
			}
		})
	}
}
