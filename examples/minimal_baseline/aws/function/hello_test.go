package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestTraceRoot(t *testing.T) {
	for in, want := range map[string]string{
		"Root=1-5759e988-bd862e3fe1be46a994272793":                                               "1-5759e988-bd862e3fe1be46a994272793",
		"Self=1-abc; Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1": "1-5759e988-bd862e3fe1be46a994272793",
		"":                        "",
		"Parent=53995c3f42cd8ad8": "",
	} {
		if got := traceRoot(in); got != want {
			t.Errorf("traceRoot(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHello(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7"})
	resp, err := hello(ctx, events.APIGatewayProxyRequest{
		Headers: map[string]string{"x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
	})
	if err != nil || resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("%+v %v", resp, err)
	}
	var g greeting
	if err := json.Unmarshal([]byte(resp.Body), &g); err != nil {
		t.Fatal(err)
	}
	if g.Message == "" || g.TraceID != "1-5759e988-bd862e3fe1be46a994272793" || g.RequestID != "req-7" {
		t.Errorf("greeting %+v", g)
	}
}
