package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"thumbnailgenerator/aws/functions/internal/s3test"
)

func TestThumbnailKey(t *testing.T) {
	for key, want := range map[string]string{
		"uploads/abc.jpg":      "thumbnails/abc.png",
		"uploads/a.b.c.gif":    "thumbnails/a.b.c.png",
		"photo":                "thumbnails/photo.png",
		"uploads/my photo.png": "thumbnails/my photo.png",
	} {
		if got := thumbnailKey(key); got != want {
			t.Errorf("thumbnailKey(%q) = %q, want %q", key, got, want)
		}
	}
}

// s3Event is an event as S3 sends it, decoded the way the Lambda runtime
// does, so the URL-encoded key is exercised.
func s3Event(t *testing.T, bucket, encodedKey string) events.S3Event {
	t.Helper()
	raw := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",
		"s3":{"bucket":{"name":"` + bucket + `"},"object":{"key":"` + encodedKey + `","size":1}}}]}`
	var ev events.S3Event
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestHandleWritesThumbnail(t *testing.T) {
	jpg, err := os.ReadFile("../../../shared/sample.jpg")
	if err != nil {
		t.Fatal(err)
	}
	srv, client := s3test.New(t)
	srv.Put("in", "uploads/my photo.jpg", jpg)
	srv.Put("in", "uploads/notes.txt", []byte("not an image"))
	h := &handler{s3: client, bucket: "out", width: 64}

	if err := h.handle(context.Background(), s3Event(t, "in", "uploads/my+photo.jpg")); err != nil {
		t.Fatal(err)
	}
	thumb := srv.Get("out", "thumbnails/my photo.png")
	img, err := png.Decode(bytes.NewReader(thumb))
	if err != nil {
		t.Fatalf("no PNG thumbnail written (%d bytes): %v; requests %v", len(thumb), err, srv.Requests)
	}
	if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Errorf("thumbnail %v, want 64x48", b)
	}

	// Not an image: skipped without error, nothing written.
	if err := h.handle(context.Background(), s3Event(t, "in", "uploads/notes.txt")); err != nil {
		t.Errorf("non-image: %v", err)
	}
	if srv.Get("out", "thumbnails/notes.png") != nil {
		t.Error("wrote a thumbnail of a text file")
	}

	// A missing object is an error, so Lambda retries it.
	err = h.handle(context.Background(), s3Event(t, "in", "uploads/gone.jpg"))
	if err == nil || !strings.Contains(err.Error(), "s3://in/uploads/gone.jpg") {
		t.Errorf("missing object: %v", err)
	}
}
