// Package s3test is an in-memory S3 endpoint for the functions' tests: it
// speaks the path-style REST calls PutObject and GetObject use, so the tests
// drive the real AWS SDK client instead of a stand-in interface.
package s3test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object is one stored object.
type Object struct {
	Body        []byte
	ContentType string
}

// Server holds objects by "bucket/key".
type Server struct {
	mu      sync.Mutex
	Objects map[string]Object
	// Requests counts the calls, e.g. "PUT in/uploads/a.jpg".
	Requests []string
}

// New starts a server on 127.0.0.1 for the test and returns it with an S3
// client pointed at it.
func New(t *testing.T) (*Server, *s3.Client) {
	s := &Server{Objects: map[string]Object{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	return s, client
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Requests = append(s.Requests, r.Method+" "+path)
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Objects[path] = Object{Body: body, ContentType: r.Header.Get("Content-Type")}
		w.Header().Set("ETag", `"etag"`)
	case http.MethodGet:
		obj, ok := s.Objects[path]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>%s</Key></Error>`, path)
			return
		}
		w.Header().Set("Content-Type", obj.ContentType)
		w.Write(obj.Body)
	default:
		http.Error(w, "method not supported by s3test", http.StatusMethodNotAllowed)
	}
}

// Get returns a stored object's body (nil when absent).
func (s *Server) Get(bucket, key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Objects[bucket+"/"+key].Body
}

// Put stores an object directly.
func (s *Server) Put(bucket, key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Objects[bucket+"/"+key] = Object{Body: body}
}
