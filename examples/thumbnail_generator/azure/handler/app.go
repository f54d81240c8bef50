package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"thumbnailgenerator/shared/thumbnail"
)

// The containers; app/thumbnail/function.json names the uploads container
// in its trigger path too.
const (
	uploadContainer    = "uploads"
	thumbnailContainer = "thumbnails"
)

// maxUpload bounds the request bodies the upload function accepts.
const maxUpload = 10 << 20

type app struct {
	blobs *azblob.Client
	width int
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	// Forwarded HTTP requests keep their path, /api/<route>.
	mux.HandleFunc("POST /api/upload", a.upload)
	// Other triggers arrive as POST /<function name>.
	mux.HandleFunc("POST /thumbnail", a.thumbnail)
	return mux
}

var traceparentRE = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// blobName names an upload after the request's W3C trace id (the
// Application Insights operation id), so that the blob-triggered operation,
// which Functions starts as a new operation, can be joined with the upload
// that caused it. Requests without a traceparent get a random name.
func blobName(traceparent, format string) string {
	id := ""
	if m := traceparentRE.FindStringSubmatch(strings.TrimSpace(traceparent)); m != nil {
		id = m[1]
	} else {
		b := make([]byte, 16)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	return id + thumbnail.Extension(format)
}

func (a *app) upload(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": fmt.Sprintf("image larger than %d bytes", maxUpload)})
		return
	}
	if len(data) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "empty body: POST a GIF, JPEG or PNG image"})
		return
	}
	format, width, height, err := thumbnail.Inspect(data)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	name := blobName(r.Header.Get("traceparent"), format)
	_, err = a.blobs.UploadBuffer(r.Context(), uploadContainer, name, data, &azblob.UploadBufferOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: ptr("image/" + format)},
	})
	if err != nil {
		fmt.Printf("store %s/%s: %v\n", uploadContainer, name, err)
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "could not store the image"})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"container": uploadContainer, "name": name, "bytes": len(data),
		"format": format, "width": width, "height": height,
	})
}

// invocation is the part of a custom handler invocation request the
// thumbnail function reads: the blob trigger's metadata. The host encodes
// some metadata values as JSON text inside a JSON string, so values are kept
// raw and decoded by metadataString.
type invocation struct {
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// invocationResult is the custom handler response payload.
type invocationResult struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

func metadataString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	var inner string // a JSON string holding a JSON string
	if strings.HasPrefix(s, `"`) && json.Unmarshal([]byte(s), &inner) == nil {
		return inner
	}
	return s
}

// triggeringBlob returns the container and name of the blob that triggered
// an invocation, from BlobTrigger ("uploads/abc.jpg") or else name.
func triggeringBlob(body []byte) (container, name string, err error) {
	var inv invocation
	if err := json.Unmarshal(body, &inv); err != nil {
		return "", "", fmt.Errorf("invocation is not JSON: %w", err)
	}
	if p := metadataString(inv.Metadata["BlobTrigger"]); p != "" {
		container, name, ok := strings.Cut(p, "/")
		if !ok || container == "" || name == "" {
			return "", "", fmt.Errorf("BlobTrigger %q is not container/name", p)
		}
		return container, name, nil
	}
	if n := metadataString(inv.Metadata["name"]); n != "" {
		return uploadContainer, n, nil
	}
	return "", "", errors.New("invocation names no blob: no BlobTrigger or name in Metadata")
}

// thumbnailName names the thumbnail of an uploaded blob: abc.jpg becomes abc.png.
func thumbnailName(name string) string {
	base := path.Base(name)
	return strings.TrimSuffix(base, path.Ext(base)) + ".png"
}

func (a *app) thumbnail(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, invocationResult{Logs: []string{"read invocation: " + err.Error()}})
		return
	}
	container, name, err := triggeringBlob(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, invocationResult{Logs: []string{err.Error()}})
		return
	}
	msg, err := a.makeThumbnail(r.Context(), container, name)
	if err != nil {
		// A failure status makes the host retry the blob (up to five times).
		writeJSON(w, http.StatusInternalServerError, invocationResult{Logs: []string{err.Error()}})
		return
	}
	writeJSON(w, http.StatusOK, invocationResult{Outputs: map[string]any{}, Logs: []string{msg}})
}

func (a *app) makeThumbnail(ctx context.Context, container, name string) (string, error) {
	resp, err := a.blobs.DownloadStream(ctx, container, name, nil)
	if err != nil {
		return "", fmt.Errorf("read %s/%s: %w", container, name, err)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxUpload+1))
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("read %s/%s: %w", container, name, err)
	}
	thumb, err := thumbnail.Make(data, a.width)
	if errors.Is(err, thumbnail.ErrNotImage) || errors.Is(err, thumbnail.ErrTooLarge) {
		// Retrying cannot turn it into an image.
		return fmt.Sprintf("skip %s/%s: %v", container, name, err), nil
	}
	if err != nil {
		return "", fmt.Errorf("thumbnail of %s/%s: %w", container, name, err)
	}
	out := thumbnailName(name)
	_, err = a.blobs.UploadBuffer(ctx, thumbnailContainer, out, thumb, &azblob.UploadBufferOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: ptr("image/png")},
	})
	if err != nil {
		return "", fmt.Errorf("write %s/%s: %w", thumbnailContainer, out, err)
	}
	return fmt.Sprintf("wrote %s/%s (%d bytes) from %s/%s", thumbnailContainer, out, len(thumb), container, name), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(bytes.TrimSpace(b))
}

func ptr[T any](v T) *T { return &v }
