package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"path"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"thumbnailgenerator/shared/thumbnail"
)

// maxImage bounds what is read of an object; the upload function stores
// nothing larger.
const maxImage = 6 << 20

type handler struct {
	s3     *s3.Client
	bucket string
	width  int
}

// thumbnailKey names the thumbnail of an uploaded object:
// uploads/abc.jpg becomes thumbnails/abc.png.
func thumbnailKey(key string) string {
	base := path.Base(key)
	return "thumbnails/" + strings.TrimSuffix(base, path.Ext(base)) + ".png"
}

// handle makes a thumbnail of every object the event names. Objects that
// are not images are logged and skipped: Lambda would retry a failed
// asynchronous invocation, and a retry cannot turn them into images.
func (h *handler) handle(ctx context.Context, ev events.S3Event) error {
	for _, rec := range ev.Records {
		src := rec.S3.Bucket.Name
		key := rec.S3.Object.URLDecodedKey // S3 sends keys URL-encoded
		if key == "" {
			key = rec.S3.Object.Key
		}
		obj, err := h.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(src), Key: aws.String(key)})
		if err != nil {
			return fmt.Errorf("read s3://%s/%s: %w", src, key, err)
		}
		data, err := io.ReadAll(io.LimitReader(obj.Body, maxImage+1))
		obj.Body.Close()
		if err != nil {
			return fmt.Errorf("read s3://%s/%s: %w", src, key, err)
		}
		thumb, err := thumbnail.Make(data, h.width)
		if errors.Is(err, thumbnail.ErrNotImage) || errors.Is(err, thumbnail.ErrTooLarge) {
			log.Printf("skip s3://%s/%s: %v", src, key, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("thumbnail of s3://%s/%s: %w", src, key, err)
		}
		out := thumbnailKey(key)
		_, err = h.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(h.bucket),
			Key:         aws.String(out),
			Body:        bytes.NewReader(thumb),
			ContentType: aws.String("image/png"),
		})
		if err != nil {
			return fmt.Errorf("write s3://%s/%s: %w", h.bucket, out, err)
		}
	}
	return nil
}
