package starlarkapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// httpModule is for single invocations and health checks from a hook, not
// for load (that is k6's job): get/post/request return a struct with status,
// body, headers, json() and elapsed_ms.
var httpModule = &starlarkstruct.Module{Name: "http", Members: starlark.StringDict{
	"get":     starlark.NewBuiltin("http.get", httpCall("GET")),
	"post":    starlark.NewBuiltin("http.post", httpCall("POST")),
	"request": starlark.NewBuiltin("http.request", httpCall("")),
}}

// maxBody bounds what a health check reads into memory.
const maxBody = 32 << 20

func httpCall(method string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var url string
		var body, jsonBody starlark.Value = starlark.None, starlark.None
		var headers *starlark.Dict
		timeout := starlark.Value(starlark.MakeInt(30))
		pairs := []any{"url", &url, "body?", &body, "json?", &jsonBody, "headers?", &headers, "timeout?", &timeout}
		if method == "" {
			pairs = append([]any{"method", &method}, pairs...)
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
			return nil, err
		}
		var reader io.Reader
		contentType := ""
		switch v := body.(type) {
		case starlark.NoneType:
		case starlark.String:
			reader = bytes.NewBufferString(string(v))
		case starlark.Bytes:
			reader = bytes.NewBufferString(string(v))
		default:
			return nil, fmt.Errorf("%s: body must be a string or bytes, not %s", b.Name(), body.Type())
		}
		if jsonBody != starlark.None {
			encoded, err := starlark.Call(thread, json.Module.Members["encode"], starlark.Tuple{jsonBody}, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: json: %w", b.Name(), err)
			}
			reader = bytes.NewBufferString(string(encoded.(starlark.String)))
			contentType = "application/json"
		}
		hdrs, err := stringMap(b.Name(), "headers", headers)
		if err != nil {
			return nil, err
		}
		limit, err := seconds(b.Name(), "timeout", timeout)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(threadContext(thread), method, url, reader)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for k, v := range hdrs {
			req.Header.Set(k, v)
		}
		client := &http.Client{Timeout: limit}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil {
			return nil, fmt.Errorf("%s: reading the response of %s: %w", b.Name(), url, err)
		}
		elapsed := time.Since(start)
		return newResponse(resp, string(data), elapsed), nil
	}
}

func newResponse(resp *http.Response, body string, elapsed time.Duration) starlark.Value {
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	headers := starlark.NewDict(len(names))
	for _, k := range names {
		_ = headers.SetKey(starlark.String(k), starlark.String(resp.Header.Get(k)))
	}
	decode := func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return starlark.Call(thread, json.Module.Members["decode"], starlark.Tuple{starlark.String(body)}, nil)
	}
	return starlarkstruct.FromStringDict(starlark.String("response"), starlark.StringDict{
		"status":     starlark.MakeInt(resp.StatusCode),
		"body":       starlark.String(body),
		"headers":    headers,
		"json":       starlark.NewBuiltin("json", decode),
		"elapsed_ms": starlark.Float(float64(elapsed.Microseconds()) / 1000),
	})
}
