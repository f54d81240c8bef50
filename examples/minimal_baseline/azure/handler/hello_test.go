package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTraceID(t *testing.T) {
	for in, want := range map[string]string{
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01": "0af7651916cd43dd8448eb211c80319c",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331":    "",
		"": "",
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01": "", // upper case is invalid
	} {
		if got := traceID(in); got != want {
			t.Errorf("traceID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHello(t *testing.T) {
	h := routes()
	req := httptest.NewRequest("GET", "/api/hello", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var g greeting
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || json.Unmarshal(rec.Body.Bytes(), &g) != nil {
		t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if g.Message == "" || g.TraceID != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("greeting %+v", g)
	}
	// Only GET /api/hello is served.
	for _, r := range []*http.Request{httptest.NewRequest("POST", "/api/hello", nil), httptest.NewRequest("GET", "/hello", nil)} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == 200 {
			t.Errorf("%s %s answered 200", r.Method, r.URL.Path)
		}
	}
}
