package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// blobService is an in-memory Blob service speaking the REST calls Put Blob
// and Get Blob use, so the tests drive the real azblob client.
type blobService struct {
	mu    sync.Mutex
	blobs map[string][]byte // "container/name"
	types map[string]string
}

func (s *blobService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Paths are /<account>/<container>/<blob>.
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if len(parts) != 2 {
		http.Error(w, "no container/blob in path", http.StatusBadRequest)
		return
	}
	key := parts[1]
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("x-ms-version", "2025-01-05")
	w.Header().Set("ETag", `"0x8D000000000000"`)
	w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	switch r.Method {
	case http.MethodPut:
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			http.Error(w, "only Put Blob of block blobs", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		s.blobs[key] = body
		s.types[key] = r.Header.Get("x-ms-blob-content-type")
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet:
		body, ok := s.blobs[key]
		if !ok {
			w.Header().Set("x-ms-error-code", "BlobNotFound")
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>`)
			return
		}
		w.Header().Set("x-ms-blob-type", "BlockBlob")
		w.Header().Set("Content-Type", s.types[key])
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	default:
		http.Error(w, "unsupported", http.StatusMethodNotAllowed)
	}
}

// newApp returns the handler's routes backed by an in-memory blob service.
func newApp(t *testing.T) (http.Handler, *blobService) {
	t.Helper()
	svc := &blobService{blobs: map[string][]byte{}, types: map[string]string{}}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	// The well-known development storage account key (Azurite's).
	conn := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
		"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
		"BlobEndpoint=" + srv.URL + "/devstoreaccount1;"
	client, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	return (&app{blobs: client, width: 100}).routes(), svc
}

func TestBlobName(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if got := blobName(tp, "jpeg"); got != "0af7651916cd43dd8448eb211c80319c.jpg" {
		t.Errorf("got %q", got)
	}
	a, b := blobName("garbage", "png"), blobName("", "png")
	if a == b || len(a) != 32+4 || !strings.HasSuffix(a, ".png") {
		t.Errorf("random names %q %q", a, b)
	}
}

func TestTriggeringBlob(t *testing.T) {
	for name, c := range map[string]struct{ body, container, blob string }{
		"BlobTrigger":         {`{"Data":{"image":"x"},"Metadata":{"BlobTrigger":"uploads/a b.jpg","name":"a b.jpg"}}`, "uploads", "a b.jpg"},
		"double-encoded":      {`{"Metadata":{"BlobTrigger":"\"uploads/a.png\""}}`, "uploads", "a.png"},
		"name only":           {`{"Metadata":{"name":"c.gif","sys":{"MethodName":"thumbnail"}}}`, "uploads", "c.gif"},
		"nested blob path ok": {`{"Metadata":{"BlobTrigger":"uploads/2026/x.jpg"}}`, "uploads", "2026/x.jpg"},
	} {
		container, blob, err := triggeringBlob([]byte(c.body))
		if err != nil || container != c.container || blob != c.blob {
			t.Errorf("%s: %q %q %v, want %q %q", name, container, blob, err, c.container, c.blob)
		}
	}
	for _, bad := range []string{`not json`, `{"Metadata":{}}`, `{"Metadata":{"BlobTrigger":"nocontainer"}}`} {
		if _, _, err := triggeringBlob([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// The whole app: upload an image, then invoke the thumbnail function the way
// the host does for the blob it created.
func TestUploadThenThumbnail(t *testing.T) {
	h, svc := newApp(t)
	jpg, err := os.ReadFile("../../shared/sample.jpg")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/api/upload", bytes.NewReader(jpg))
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	const name = "0af7651916cd43dd8448eb211c80319c.jpg"
	if !bytes.Equal(svc.blobs["uploads/"+name], jpg) || svc.types["uploads/"+name] != "image/jpeg" {
		t.Fatalf("stored %d bytes as %q; blobs %v", len(svc.blobs["uploads/"+name]), svc.types["uploads/"+name], len(svc.blobs))
	}

	inv := `{"Data":{"image":"(ignored)"},"Metadata":{"BlobTrigger":"uploads/` + name + `","name":"` + name + `"}}`
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/thumbnail", strings.NewReader(inv)))
	var res invocationResult
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
		t.Fatalf("thumbnail: %d %s", rec.Code, rec.Body)
	}
	img, err := png.Decode(bytes.NewReader(svc.blobs["thumbnails/0af7651916cd43dd8448eb211c80319c.png"]))
	if err != nil {
		t.Fatalf("no PNG thumbnail: %v (logs %v)", err, res.Logs)
	}
	if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 75 {
		t.Errorf("thumbnail %v, want 100x75", b)
	}
	if len(res.Logs) != 1 || !strings.Contains(res.Logs[0], "wrote thumbnails/0af7651916cd43dd8448eb211c80319c.png") {
		t.Errorf("logs %v", res.Logs)
	}

	// A blob that is gone fails the invocation, so the host retries it.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/thumbnail", strings.NewReader(`{"Metadata":{"BlobTrigger":"uploads/gone.jpg"}}`)))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "uploads/gone.jpg") {
		t.Errorf("missing blob: %d %s", rec.Code, rec.Body)
	}
}

func TestUploadRefusesNonImages(t *testing.T) {
	h, svc := newApp(t)
	for _, body := range []string{"", "hello"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/upload", strings.NewReader(body)))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%q: status %d", body, rec.Code)
		}
	}
	if len(svc.blobs) != 0 {
		t.Errorf("stored %d blobs", len(svc.blobs))
	}
}
