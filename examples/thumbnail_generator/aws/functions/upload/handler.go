package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"regexp"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"thumbnailgenerator/shared/thumbnail"
)

// maxUpload is Lambda's synchronous payload limit, which API Gateway's
// base64 encoding shrinks further; larger bodies never reach the function.
const maxUpload = 6 << 20

type handler struct {
	s3     *s3.Client
	bucket string
}

// upload is a validated image from a request.
type upload struct {
	data          []byte
	format        string
	width, height int
}

// parseUpload takes the image out of an API Gateway proxy request. API
// Gateway base64-encodes bodies of the binary media types template.yaml
// lists (image/*), and passes other bodies as text.
func parseUpload(req events.APIGatewayProxyRequest) (upload, error) {
	data := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if data, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return upload{}, fmt.Errorf("body is marked base64 but does not decode: %w", err)
		}
	}
	if len(data) == 0 {
		return upload{}, errors.New("empty body: POST a GIF, JPEG or PNG image")
	}
	if len(data) > maxUpload {
		return upload{}, fmt.Errorf("image of %d bytes is larger than %d", len(data), maxUpload)
	}
	format, w, h, err := thumbnail.Inspect(data)
	if err != nil {
		return upload{}, err
	}
	return upload{data: data, format: format, width: w, height: h}, nil
}

var unsafeKeyChars = regexp.MustCompile(`[^A-Za-z0-9-]`)

// objectKey names an upload after the request, so that a trace's request id
// finds its image; requests without one get a random name.
func objectKey(requestID, format string) string {
	name := unsafeKeyChars.ReplaceAllString(requestID, "")
	if name == "" {
		b := make([]byte, 16)
		rand.Read(b)
		name = hex.EncodeToString(b)
	}
	return "uploads/" + name + thumbnail.Extension(format)
}

func (h *handler) handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	up, err := parseUpload(req)
	if err != nil {
		return jsonResponse(http.StatusBadRequest, map[string]any{"error": err.Error()}), nil
	}
	key := objectKey(req.RequestContext.RequestID, up.format)
	_, err = h.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(h.bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(up.data),
		ContentType: aws.String("image/" + up.format),
	})
	if err != nil {
		log.Printf("store s3://%s/%s: %v", h.bucket, key, err)
		return jsonResponse(http.StatusBadGateway, map[string]any{"error": "could not store the image"}), nil
	}
	return jsonResponse(http.StatusCreated, map[string]any{
		"bucket": h.bucket, "key": key, "bytes": len(up.data),
		"format": up.format, "width": up.width, "height": up.height,
	}), nil
}

func jsonResponse(status int, body map[string]any) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(body)
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}
