package main

import (
	"encoding/json"
	"net/http"
	"regexp"
)

// greeting is the response body.
type greeting struct {
	Message string `json:"message"`
	// TraceID is the W3C trace id of the request (its Application Insights
	// operation_Id), so a client can check that its traceparent was continued.
	TraceID string `json:"trace_id,omitempty"`
}

var traceparentRE = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// traceID returns the trace id of a traceparent header, or "".
func traceID(traceparent string) string {
	if m := traceparentRE.FindStringSubmatch(traceparent); m != nil {
		return m[1]
	}
	return ""
}

func routes() http.Handler {
	mux := http.NewServeMux()
	// Forwarded HTTP requests keep their path, /api/<route>.
	mux.HandleFunc("GET /api/hello", hello)
	return mux
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(greeting{Message: "hello from minimal_baseline", TraceID: traceID(r.Header.Get("traceparent"))})
}
