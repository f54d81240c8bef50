package main

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// greeting is the response body.
type greeting struct {
	Message string `json:"message"`
	// TraceID is the X-Ray trace id API Gateway passed on, so a client can
	// check that its trace header was continued.
	TraceID   string `json:"trace_id,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// traceRoot returns the Root of an X-Amzn-Trace-Id header value
// ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1").
func traceRoot(header string) string {
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}

// header reads a request header whatever its case: API Gateway passes
// header names as the client sent them.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func hello(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	g := greeting{Message: "hello from minimal_baseline", TraceID: traceRoot(header(req.Headers, "X-Amzn-Trace-Id"))}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		g.RequestID = lc.AwsRequestID
	}
	body, err := json.Marshal(g)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}
