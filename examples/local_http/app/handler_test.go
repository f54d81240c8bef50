package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sb/tracing/loglines"
)

// marksOf parses the handler's output, which must consist of marks only,
// with sb's own log-line parser.
func marksOf(t *testing.T, out string) []loglines.Mark {
	t.Helper()
	var marks []loglines.Mark
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		m, ok, err := loglines.ParseLine([]byte(line), i+1)
		if err != nil || !ok {
			t.Fatalf("line %d %q is not a mark sb reads (ok=%v, err=%v)", i+1, line, ok, err)
		}
		marks = append(marks, m)
	}
	return marks
}

func labelsOf(marks []loglines.Mark, key string) []string {
	var labels []string
	for _, m := range marks {
		if m.Key == key {
			labels = append(labels, m.Label)
		}
	}
	return labels
}

func markOf(t *testing.T, marks []loglines.Mark, key, label string) loglines.Mark {
	t.Helper()
	for _, m := range marks {
		if m.Key == key && m.Label == label {
			return m
		}
	}
	t.Fatalf("no %s mark for %s", label, key)
	return loglines.Mark{}
}

var (
	fullRequest  = []string{"RECEIVED", "WORK_START", "WORK_END", "RESPONDED"}
	firstRequest = []string{"RECEIVED", "INIT_START", "INIT_END", "WORK_START", "WORK_END", "RESPONDED"}
)

func TestMarkLine(t *testing.T) {
	cases := []struct {
		at           time.Time
		label, key   string
		want         string
		offsetMinute int
	}{
		{time.Date(2020, 9, 22, 17, 4, 30, 140_000_000, time.FixedZone("IST", 5*3600+30*60)), "RECEIVED", "1-5f69e0c6-0123456789abcdef01234567",
			"1600774470140+0530|RECEIVED|1-5f69e0c6-0123456789abcdef01234567\n", 330},
		{time.Date(2003, 12, 31, 15, 59, 59, 999_999_999, time.FixedZone("PST", -8*3600)), "WORK_END", "4bf92f3577b34da6a3ce929d0e0e4736",
			"1072915199999-0800|WORK_END|4bf92f3577b34da6a3ce929d0e0e4736\n", -480},
		{time.Date(2020, 9, 22, 11, 34, 30, 140_000_000, time.UTC), "INIT_START", "k",
			"1600774470140+0000|INIT_START|k\n", 0},
	}
	for _, c := range cases {
		var b bytes.Buffer
		m := &marker{w: &b, now: func() time.Time { return c.at }}
		m.mark(c.label, c.key)
		if b.String() != c.want {
			t.Errorf("mark at %s = %q, want %q", c.at, b.String(), c.want)
			continue
		}
		got := marksOf(t, b.String())[0]
		if got.EpochMS != c.at.UnixMilli() || got.Offset != c.offsetMinute || got.Label != c.label || got.Key != c.key {
			t.Errorf("sb reads %q as %+v", c.want, got)
		}
	}
}

func TestTraceKey(t *testing.T) {
	const root = "1-5759e988-bd862e3fe1be46a994272793"
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	cases := []struct {
		name          string
		xray, tparent string
		want          string // "" : a generated id
	}{
		{"xray root only (k6/x/sb)", "Root=" + root, "", root},
		{"xray with parent and sampling", "Root=" + root + ";Parent=53995c3f42cd8ad8;Sampled=1", "", root},
		{"xray root not first", "Self=1-67891234-12456789abcdef012345678;Root=" + root, "", root},
		{"xray wins over traceparent", "Root=" + root, "00-" + tid + "-00f067aa0ba902b7-01", root},
		{"traceparent", "", "00-" + tid + "-00f067aa0ba902b7-01", tid},
		{"traceparent of a later version", "", "01-" + tid + "-00f067aa0ba902b7-01-extra", tid},
		{"malformed xray falls back to traceparent", "Root=1-xyz|bad", "00-" + tid + "-00f067aa0ba902b7-01", tid},
		{"xray root with a pipe", "Root=1-5759e988-bd862e3fe1be46a99427279|", "", ""},
		{"traceparent version ff", "", "ff-" + tid + "-00f067aa0ba902b7-01", ""},
		{"traceparent all-zero id", "", "00-" + strings.Repeat("0", 32) + "-00f067aa0ba902b7-01", ""},
		{"traceparent upper-case id", "", "00-" + strings.ToUpper(tid) + "-00f067aa0ba902b7-01", ""},
		{"no headers", "", "", ""},
	}
	generated := regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	seen := map[string]bool{}
	for _, c := range cases {
		h := http.Header{}
		if c.xray != "" {
			h.Set("X-Amzn-Trace-Id", c.xray)
		}
		if c.tparent != "" {
			h.Set("traceparent", c.tparent)
		}
		got := traceKey(h)
		switch {
		case c.want != "" && got != c.want:
			t.Errorf("%s: key = %q, want %q", c.name, got, c.want)
		case c.want == "" && (!generated.MatchString(got) || seen[got]):
			t.Errorf("%s: key = %q, want a fresh X-Ray style id", c.name, got)
		}
		seen[got] = true
	}
}

// do sends one request straight to the handler.
func do(h http.Handler, method, target string, body []byte, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func xray(root string) http.Header {
	return http.Header{"X-Amzn-Trace-Id": {"Root=" + root + ";Sampled=1"}}
}

func decode(t *testing.T, w *httptest.ResponseRecorder, wantType string) image.Image {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != wantType {
		t.Fatalf("Content-Type = %q, want %q", ct, wantType)
	}
	img, format, err := image.Decode(bytes.NewReader(w.Body.Bytes()))
	if err != nil || "image/"+format != wantType {
		t.Fatalf("response is not a %s image: %s, %v", wantType, format, err)
	}
	return img
}

func TestFirstRequestInitialises(t *testing.T) {
	var out bytes.Buffer
	const delay = 60 * time.Millisecond
	h := newThumbnailer(&out, delay)

	first := "1-5f69e0c6-aaaaaaaaaaaaaaaaaaaaaaaa"
	w := do(h, http.MethodGet, "/", nil, xray(first))
	img := decode(t, w, "image/png")
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 96 {
		t.Errorf("thumbnail of the generated %dx%d image is %v, want 128x96", sampleW, sampleH, b)
	}
	if got := w.Header().Get("X-Trace-Id"); got != first {
		t.Errorf("X-Trace-Id = %q, want %q", got, first)
	}

	second := "0af7651916cd43dd8448eb211c80319c"
	w = do(h, http.MethodGet, "/?width=64", nil, http.Header{"Traceparent": {"00-" + second + "-b7ad6b7169203331-01"}})
	if b := decode(t, w, "image/png").Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Errorf("width=64 gave %v", b)
	}

	marks := marksOf(t, out.String())
	if got := labelsOf(marks, first); !slices.Equal(got, firstRequest) {
		t.Errorf("first request's labels = %v, want %v", got, firstRequest)
	}
	if got := labelsOf(marks, second); !slices.Equal(got, fullRequest) {
		t.Errorf("second request's labels = %v, want %v", got, fullRequest)
	}
	if len(marks) != len(firstRequest)+len(fullRequest) {
		t.Errorf("%d marks, want %d:\n%s", len(marks), len(firstRequest)+len(fullRequest), out.String())
	}
	if d := markOf(t, marks, first, "INIT_END").EpochMS - markOf(t, marks, first, "INIT_START").EpochMS; d < delay.Milliseconds() {
		t.Errorf("initialisation took %d ms, want at least %d", d, delay.Milliseconds())
	}
	for i := 1; i < len(marks); i++ {
		if marks[i].EpochMS < marks[i-1].EpochMS {
			t.Errorf("mark %d goes back in time: %+v after %+v", i, marks[i], marks[i-1])
		}
	}
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestThumbnailPixels(t *testing.T) {
	h := newThumbnailer(io.Discard, 0)
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}

	// Uniform areas keep their exact colour.
	halves := image.NewNRGBA(image.Rect(0, 0, 40, 20))
	for y := range 20 {
		for x := range 40 {
			halves.SetNRGBA(x, y, map[bool]color.NRGBA{true: red, false: blue}[x < 20])
		}
	}
	img := decode(t, do(h, http.MethodPost, "/?width=10", encodePNG(t, halves), nil), "image/png")
	if b := img.Bounds(); b.Dx() != 10 || b.Dy() != 5 {
		t.Fatalf("40x20 at width 10 gave %v", b)
	}
	for y := range 5 {
		for x := range 10 {
			want := map[bool]color.NRGBA{true: red, false: blue}[x < 5]
			if got := color.NRGBAModel.Convert(img.At(x, y)); got != want {
				t.Errorf("pixel %d,%d = %v, want %v", x, y, got, want)
			}
		}
	}

	// Averaging happens in linear light: a black and white checkerboard
	// becomes sRGB grey 187/188 (half the light), not 128.
	checker := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			checker.SetGray(x, y, color.Gray{uint8(255 * ((x + y) % 2))})
		}
	}
	img = decode(t, do(h, http.MethodPost, "/?width=32", encodePNG(t, checker), nil), "image/png")
	for y := range 32 {
		for x := range 32 {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if c.R < 187 || c.R > 188 || c.G != c.R || c.B != c.R || c.A != 255 {
				t.Fatalf("checkerboard pixel %d,%d = %v, want grey 187 or 188", x, y, c)
			}
		}
	}

	// Colour is weighted by alpha: an invisible blue pixel does not tint
	// its opaque red neighbour.
	pair := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	pair.SetNRGBA(0, 0, red)
	pair.SetNRGBA(1, 0, color.NRGBA{0, 0, 255, 0})
	img = decode(t, do(h, http.MethodPost, "/?width=1", encodePNG(t, pair), nil), "image/png")
	if got, want := color.NRGBAModel.Convert(img.At(0, 0)), (color.NRGBA{255, 0, 0, 128}); got != want {
		t.Errorf("red beside transparent blue = %v, want %v", got, want)
	}
}

func TestJPEGInAndOut(t *testing.T) {
	h := newThumbnailer(io.Discard, 0)
	var in bytes.Buffer
	if err := jpeg.Encode(&in, sampleImage(200, 100), nil); err != nil {
		t.Fatal(err)
	}
	img := decode(t, do(h, http.MethodPost, "/?width=50&format=jpeg", in.Bytes(), nil), "image/jpeg")
	if b := img.Bounds(); b.Dx() != 50 || b.Dy() != 25 {
		t.Errorf("200x100 JPEG at width 50 gave %v", b)
	}
}

func TestGeneratedImageIsDeterministic(t *testing.T) {
	h := newThumbnailer(io.Discard, 0)
	a := do(h, http.MethodGet, "/", nil, nil).Body.Bytes()
	b := do(h, http.MethodGet, "/", nil, nil).Body.Bytes()
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("two requests without a body gave different thumbnails")
	}
}

func TestBadRequestsAreAnsweredAndLogged(t *testing.T) {
	var out bytes.Buffer
	h := newThumbnailer(&out, 0)
	cases := []struct {
		method, target string
		body           string
		status         int
		says           string
	}{
		{http.MethodPost, "/", "not an image", http.StatusBadRequest, "not a PNG, JPEG or GIF"},
		{http.MethodGet, "/?width=0", "", http.StatusBadRequest, "width"},
		{http.MethodGet, "/?width=abc", "", http.StatusBadRequest, "width"},
		{http.MethodGet, "/?width=1025", "", http.StatusBadRequest, "width"},
		{http.MethodGet, "/?format=gif", "", http.StatusBadRequest, "png or jpeg"},
		{http.MethodPut, "/", "", http.StatusMethodNotAllowed, "GET"},
	}
	for i, c := range cases {
		key := fmt.Sprintf("1-5f69e0c6-%024x", i)
		w := do(h, c.method, c.target, []byte(c.body), xray(key))
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.says) {
			t.Errorf("%s %s: %d %q, want %d saying %q", c.method, c.target, w.Code, w.Body.String(), c.status, c.says)
		}
	}
	// A failed request is still measured from end to end.
	marks := marksOf(t, out.String())
	for i := range cases {
		key := fmt.Sprintf("1-5f69e0c6-%024x", i)
		want := fullRequest
		if i == 0 {
			want = firstRequest
		}
		if got := labelsOf(marks, key); !slices.Equal(got, want) {
			t.Errorf("request %d labels = %v, want %v", i, got, want)
		}
	}
}

// Requests arriving during the initialisation wait for it, and only one
// request initialises.
func TestConcurrentFirstRequests(t *testing.T) {
	var out syncBuffer
	const delay = 80 * time.Millisecond
	srv := httptest.NewServer(newThumbnailer(&out, delay))
	defer srv.Close()

	const n = 6
	keys := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		keys[i] = fmt.Sprintf("1-5f69e0c6-%024x", 100+i)
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?width=32", nil)
			req.Header.Set("X-Amzn-Trace-Id", "Root="+keys[i])
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("request %d: %s %v", i, resp.Status, err)
			}
		})
	}
	wg.Wait()

	marks := marksOf(t, out.String())
	var initEnd loglines.Mark
	inits := 0
	for _, m := range marks {
		if m.Label == "INIT_START" {
			inits++
		}
		if m.Label == "INIT_END" {
			initEnd = m
		}
	}
	if inits != 1 || initEnd.Label == "" {
		t.Fatalf("%d initialisations, want exactly one:\n%s", inits, out.String())
	}
	for _, k := range keys {
		got := labelsOf(marks, k)
		if k == initEnd.Key {
			if !slices.Equal(got, firstRequest) {
				t.Errorf("initialising request %s: labels %v", k, got)
			}
			continue
		}
		if !slices.Equal(got, fullRequest) {
			t.Errorf("request %s: labels %v, want %v", k, got, fullRequest)
		}
		if ws := markOf(t, marks, k, "WORK_START"); ws.EpochMS < initEnd.EpochMS {
			t.Errorf("request %s started work at %d, before initialisation ended at %d", k, ws.EpochMS, initEnd.EpochMS)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeStopsWhenAsked(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, l, newThumbnailer(io.Discard, 0)) }()

	resp, err := http.Get("http://" + l.Addr().String() + "/?width=8")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %s", resp.Status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	if _, err := http.Get("http://" + l.Addr().String() + "/"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

// BenchmarkThumbnail measures one warm request without a body: generating
// the 1024x768 picture, shrinking it to 128x96 and encoding the PNG.
func BenchmarkThumbnail(b *testing.B) {
	h := newThumbnailer(io.Discard, 0)
	do(h, http.MethodGet, "/", nil, nil) // initialise
	for b.Loop() {
		if w := do(h, http.MethodGet, "/", nil, nil); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
