package azure

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// FuzzAnalyze feeds arbitrary lines to the analysis: bad input must become
// invalid rows, never a panic.
func FuzzAnalyze(f *testing.F) {
	f.Add(`{"operation_Id":"op","requests":[{"TimeGenerated":"2024-05-01T10:00:00Z","Id":"r1","ParentId":"op","DurationMs":5}]}`)
	f.Add(`{"operation_Id":"op","requests":[{"TimeGenerated":"2024-05-01T10:00:00Z","Id":"r1","ParentId":"x","DurationMs":5,"AppRoleInstance":"i"},` +
		`{"TimeGenerated":"2024-05-01T10:00:01Z","Id":"r2","ParentId":"r1","DurationMs":5}],` +
		`"traces":[{"TimeGenerated":"2024-05-01T10:00:00.5Z","Message":"Host started (100ms)"}]}`)
	f.Add(`{"tables":[{"name":"t","columns":[{"name":"Type"},{"name":"OperationId"}],"rows":[["AppRequests","o"]]}]}`)
	f.Add(`{"error":{"code":"x"}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		var bd, inv bytes.Buffer
		cold, err := scanColdFacts(context.Background(), bytes.NewReader([]byte(in)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := analyze(context.Background(), bytes.NewReader([]byte(in)), &bd, &inv, cold); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	})
}
