package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, OK},
		{"unclassified", base, BenchmarkFailed},
		{"classified", With(base, Infrastructure), Infrastructure},
		{"wrapped", fmt.Errorf("context: %w", With(base, BadInput)), BadInput},
		{"first wins", With(With(base, ScriptError), Infrastructure), ScriptError},
		{"deeper wins over outer", With(fmt.Errorf("outer: %w", With(base, BenchmarkFailed)), ScriptError), BenchmarkFailed},
		{"cancelled", With(fmt.Errorf("hook: %w", context.Canceled), ScriptError), Interrupted},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("%s: Of = %d, want %d", tc.name, got, tc.want)
		}
	}
	if With(nil, ScriptError) != nil {
		t.Error("With(nil) is not nil")
	}
	if err := With(base, BadInput); err.Error() != "boom" || !errors.Is(err, base) {
		t.Errorf("With changes the message or hides the cause: %v", err)
	}
}
