// Command upload is the first function of thumbnail_generator on AWS: API
// Gateway hands it a POSTed image, and it stores the image in the input
// bucket, whose upload event triggers the thumbnail function. Its S3 calls
// are traced as X-Ray subsegments, and the trace header on the PutObject
// call lets S3 carry the trace on to the thumbnail function.
//
// Environment: INPUT_BUCKET (set by template.yaml).
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
)

func main() {
	bucket := os.Getenv("INPUT_BUCKET")
	if bucket == "" {
		log.Fatal("INPUT_BUCKET is not set: deploy the function with template.yaml, which sets it")
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS configuration: %v", err)
	}
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	h := &handler{s3: s3.NewFromConfig(cfg), bucket: bucket}
	lambda.Start(h.handle)
}
