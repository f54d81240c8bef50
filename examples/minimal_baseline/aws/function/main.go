// Command function is minimal_baseline on AWS: one Lambda function behind
// API Gateway that answers GET /hello at once. Its latency is the platform's
// own overhead (API Gateway, Lambda invocation, cold starts), the baseline
// against which applications doing real work compare.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(hello)
}
