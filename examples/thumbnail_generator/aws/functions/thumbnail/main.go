// Command thumbnail is the second function of thumbnail_generator on AWS:
// every object created in the input bucket triggers it, and it writes a PNG
// thumbnail of the image into the output bucket. With active tracing, S3
// carries the upload's trace on to this invocation, so one X-Ray trace spans
// the request, the upload and the thumbnail.
//
// Environment: OUTPUT_BUCKET (set by template.yaml), THUMBNAIL_WIDTH
// (pixels, default 128).
package main

import (
	"context"
	"log"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"

	"thumbnailgenerator/shared/thumbnail"
)

func main() {
	bucket := os.Getenv("OUTPUT_BUCKET")
	if bucket == "" {
		log.Fatal("OUTPUT_BUCKET is not set: deploy the function with template.yaml, which sets it")
	}
	width := thumbnail.DefaultWidth
	if v := os.Getenv("THUMBNAIL_WIDTH"); v != "" {
		w, err := strconv.Atoi(v)
		if err != nil || w <= 0 {
			log.Fatalf("THUMBNAIL_WIDTH=%q is not a positive number of pixels", v)
		}
		width = w
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS configuration: %v", err)
	}
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	h := &handler{s3: s3.NewFromConfig(cfg), bucket: bucket, width: width}
	lambda.Start(h.handle)
}
