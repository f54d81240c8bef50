package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"thumbnailgenerator/aws/functions/internal/s3test"
)

func sample(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../../shared/sample.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseUpload(t *testing.T) {
	jpg := sample(t)
	up, err := parseUpload(events.APIGatewayProxyRequest{Body: base64.StdEncoding.EncodeToString(jpg), IsBase64Encoded: true})
	if err != nil || up.format != "jpeg" || up.width != 1024 || up.height != 768 || !bytes.Equal(up.data, jpg) {
		t.Fatalf("base64 JPEG: %s %dx%d %d bytes, %v", up.format, up.width, up.height, len(up.data), err)
	}
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 2)))
	// A body API Gateway did not encode arrives as is.
	if up, err := parseUpload(events.APIGatewayProxyRequest{Body: buf.String()}); err != nil || up.format != "png" {
		t.Errorf("raw PNG: %q %v", up.format, err)
	}
	for name, req := range map[string]events.APIGatewayProxyRequest{
		"empty":      {},
		"bad base64": {Body: "%%%", IsBase64Encoded: true},
		"text":       {Body: "hello"},
	} {
		if _, err := parseUpload(req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestObjectKey(t *testing.T) {
	if got := objectKey("c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "jpeg"); got != "uploads/c6af9ac6-7b61-11e6-9a41-93e8deadbeef.jpg" {
		t.Errorf("got %q", got)
	}
	if got := objectKey("../x/y", "png"); got != "uploads/xy.png" {
		t.Errorf("path characters kept: %q", got)
	}
	a, b := objectKey("", "gif"), objectKey("", "gif")
	if a == b || !strings.HasPrefix(a, "uploads/") || !strings.HasSuffix(a, ".gif") || len(a) != len("uploads/")+32+4 {
		t.Errorf("random keys %q, %q", a, b)
	}
}

func TestHandleStoresImage(t *testing.T) {
	srv, client := s3test.New(t)
	h := &handler{s3: client, bucket: "in"}
	jpg := sample(t)
	req := events.APIGatewayProxyRequest{Body: base64.StdEncoding.EncodeToString(jpg), IsBase64Encoded: true}
	req.RequestContext.RequestID = "req-1"
	resp, err := h.handle(context.Background(), req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("status %d, body %s, err %v", resp.StatusCode, resp.Body, err)
	}
	var body struct{ Bucket, Key string }
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Bucket != "in" || body.Key != "uploads/req-1.jpg" {
		t.Fatalf("response %s (%v)", resp.Body, err)
	}
	if got := srv.Get("in", "uploads/req-1.jpg"); !bytes.Equal(got, jpg) {
		t.Fatalf("stored %d bytes, want the %d uploaded", len(got), len(jpg))
	}
	if ct := srv.Objects["in/uploads/req-1.jpg"].ContentType; ct != "image/jpeg" {
		t.Errorf("content type %q", ct)
	}

	resp, _ = h.handle(context.Background(), events.APIGatewayProxyRequest{Body: "not an image"})
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, "not a GIF, JPEG or PNG") {
		t.Errorf("bad upload: %d %s", resp.StatusCode, resp.Body)
	}
}
