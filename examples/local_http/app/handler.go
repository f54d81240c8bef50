package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // decoders for image.Decode
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Labels of the log lines, in the order one request prints them.
const (
	labelReceived  = "RECEIVED"
	labelInitStart = "INIT_START" // first request only
	labelInitEnd   = "INIT_END"   // first request only
	labelWorkStart = "WORK_START"
	labelWorkEnd   = "WORK_END"
	labelResponded = "RESPONDED"
)

const (
	defaultWidth = 128
	maxWidth     = 1024
	maxBody      = 32 << 20 // bytes
	maxPixels    = 40e6     // refuse decoding bombs before decoding
	// The generated image when the body is empty: the size of a phone
	// photo scaled down, so that a request does measurable work.
	sampleW, sampleH = 1024, 768
)

// marker prints log lines of design V1: <epoch ms><±HHMM>|LABEL|KEY.
type marker struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func (m *marker) mark(label, key string) {
	t := m.now()
	line := strconv.FormatInt(t.UnixMilli(), 10) + t.Format("-0700") + "|" + label + "|" + key + "\n"
	// One write per line, serialised, so lines of concurrent requests
	// never interleave.
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = io.WriteString(m.w, line)
}

// thumbnailer is the HTTP function. GET or POST; the body is a PNG, JPEG or
// GIF image (empty: a generated one); ?width= sets the thumbnail's width
// (default 128, height keeps the aspect ratio) and ?format=png|jpeg its
// encoding (default png). The response carries the trace id it logged
// under in X-Trace-Id.
type thumbnailer struct {
	marks     *marker
	initDelay time.Duration

	initOnce sync.Once
	lut      *colorTables
}

func newThumbnailer(w io.Writer, initDelay time.Duration) *thumbnailer {
	return &thumbnailer{marks: &marker{w: w, now: time.Now}, initDelay: initDelay}
}

func (h *thumbnailer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := traceKey(r.Header)
	h.marks.mark(labelReceived, key)
	// Requests arriving during the initialisation wait for it; only the
	// one that performs it prints its labels.
	h.initOnce.Do(func() {
		h.marks.mark(labelInitStart, key)
		h.initialise()
		h.marks.mark(labelInitEnd, key)
	})

	h.marks.mark(labelWorkStart, key)
	body, ctype, err := h.work(r)
	h.marks.mark(labelWorkEnd, key)

	w.Header().Set("X-Trace-Id", key)
	var he *httpError
	switch {
	case errors.As(err, &he):
		http.Error(w, he.msg, he.status)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}
	h.marks.mark(labelResponded, key)
}

// initialise builds the colour tables, then waits out the rest of
// initDelay: a stand-in for what real functions do once per instance
// (loading a model, opening connections), so that the first request shows
// a cold start in the breakdown.
func (h *thumbnailer) initialise() {
	start := time.Now()
	h.lut = newColorTables()
	time.Sleep(h.initDelay - time.Since(start))
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// work decodes (or generates) the source image and returns the encoded
// thumbnail with its content type.
func (h *thumbnailer) work(r *http.Request) ([]byte, string, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, "", &httpError{http.StatusMethodNotAllowed, "use GET (generated image) or POST (image in the body)"}
	}
	q := r.URL.Query()
	width := defaultWidth
	if v := q.Get("width"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxWidth {
			return nil, "", badRequest("width=%q: give a whole number of pixels from 1 to %d", v, maxWidth)
		}
		width = n
	}
	format := q.Get("format")
	switch format {
	case "":
		format = "png"
	case "png", "jpeg":
	default:
		return nil, "", badRequest("format=%q: choose png or jpeg", format)
	}

	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, "", badRequest("reading the body: %v (at most %d bytes)", err, maxBody)
	}
	var src image.Image
	if len(data) == 0 {
		src = sampleImage(sampleW, sampleH)
	} else {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return nil, "", badRequest("the body is not a PNG, JPEG or GIF image: %v", err)
		}
		if float64(cfg.Width)*float64(cfg.Height) > maxPixels {
			return nil, "", badRequest("the image has %dx%d pixels; send at most %.0f million", cfg.Width, cfg.Height, maxPixels/1e6)
		}
		if src, _, err = image.Decode(bytes.NewReader(data)); err != nil {
			return nil, "", badRequest("decoding the image: %v", err)
		}
	}

	b := src.Bounds()
	height := max(1, int(math.Round(float64(b.Dy())*float64(width)/float64(b.Dx()))))
	thumb := h.lut.scale(toNRGBA(src), width, height)

	var out bytes.Buffer
	if format == "jpeg" {
		err = jpeg.Encode(&out, thumb, &jpeg.Options{Quality: 85})
	} else {
		err = png.Encode(&out, thumb)
	}
	if err != nil {
		return nil, "", fmt.Errorf("encoding the thumbnail: %w", err)
	}
	return out.Bytes(), "image/" + format, nil
}

// colorTables convert between 8-bit sRGB and 16-bit linear light, so that
// averaging pixels mixes light as the eye expects (a black and white
// checkerboard shrinks to mid grey 188, not a too dark 128).
type colorTables struct {
	toLinear [256]uint16 // sRGB → linear, 0…65535
	toSRGB   [4096]uint8 // linear (top 12 bits) → sRGB
}

func newColorTables() *colorTables {
	t := &colorTables{}
	for i := range t.toLinear {
		c := float64(i) / 255
		var l float64
		if c <= 0.04045 {
			l = c / 12.92
		} else {
			l = math.Pow((c+0.055)/1.055, 2.4)
		}
		t.toLinear[i] = uint16(math.Round(l * 65535))
	}
	for i := range t.toSRGB {
		l := float64(i) / 4095
		var c float64
		if l <= 0.0031308 {
			c = l * 12.92
		} else {
			c = 1.055*math.Pow(l, 1/2.4) - 0.055
		}
		t.toSRGB[i] = uint8(math.Round(c * 255))
	}
	return t
}

// scale resizes src to w×h: each thumbnail pixel is the average, in linear
// light and weighted by alpha, of the source pixels it covers (a box
// filter, which does not alias when shrinking); enlarging picks the nearest
// pixel.
func (t *colorTables) scale(src *image.NRGBA, w, h int) *image.NRGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for dy := range h {
		y0 := dy * sh / h
		y1 := max((dy+1)*sh/h, y0+1)
		for dx := range w {
			x0 := dx * sw / w
			x1 := max((dx+1)*sw/w, x0+1)
			var r, g, b, a, n uint64
			for y := y0; y < y1; y++ {
				row := src.Pix[y*src.Stride:]
				for x := x0; x < x1; x++ {
					p := row[4*x : 4*x+4]
					al := uint64(p[3])
					r += uint64(t.toLinear[p[0]]) * al
					g += uint64(t.toLinear[p[1]]) * al
					b += uint64(t.toLinear[p[2]]) * al
					a += al
					n++
				}
			}
			if a == 0 {
				continue // fully transparent: stays zero
			}
			o := dst.PixOffset(dx, dy)
			dst.Pix[o+0] = t.toSRGB[(r/a)>>4]
			dst.Pix[o+1] = t.toSRGB[(g/a)>>4]
			dst.Pix[o+2] = t.toSRGB[(b/a)>>4]
			dst.Pix[o+3] = uint8((a + n/2) / n)
		}
	}
	return dst
}

// toNRGBA returns img as non-premultiplied RGBA with its origin at 0,0.
func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Rect, img, b.Min, draw.Src)
	return n
}

// sampleImage draws a deterministic w×h test picture: colour gradients
// with a pattern of fine detail, so that the thumbnail has work to do.
func sampleImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(x * 255 / max(1, w-1)),
				G: uint8(y * 255 / max(1, h-1)),
				B: uint8((x ^ y) & 0xff),
				A: 255,
			})
		}
	}
	return img
}

var (
	xrayRootRe = regexp.MustCompile(`^1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}$`)
	traceIDRe  = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// traceKey returns the request's trace id: the Root of its X-Amzn-Trace-Id
// header (1-5759e988-bd862e3fe1be46a994272793), else the trace id of its
// W3C traceparent header (4bf92f3577b34da6a3ce929d0e0e4736), else a fresh
// id in X-Ray's form. Malformed values are ignored rather than logged: a
// key must never break the log line's format.
func traceKey(h http.Header) string {
	for _, part := range strings.Split(h.Get("X-Amzn-Trace-Id"), ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == "Root" && xrayRootRe.MatchString(v) {
			return v
		}
	}
	// version-traceid-parentid-flags; version ff is invalid, later
	// versions may append fields.
	if f := strings.Split(strings.TrimSpace(h.Get("traceparent")), "-"); len(f) >= 4 && len(f[0]) == 2 && f[0] != "ff" &&
		traceIDRe.MatchString(f[1]) && f[1] != strings.Repeat("0", 32) {
		return f[1]
	}
	return newTraceID(time.Now())
}

// newTraceID returns an X-Ray style trace id for a request that came
// without one.
func newTraceID(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (Go ≥ 1.24)
	return fmt.Sprintf("1-%08x-%s", uint32(now.Unix()), hex.EncodeToString(b))
}
