package starlarkapi

import (
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// predeclared assembles, in one visible list, every name a benchmark script
// can use besides the Starlark universe (which already has fail, print, ...).
func predeclared(opt LoadOptions) starlark.StringDict {
	return starlark.StringDict{
		"json":   json.Module,
		"time":   time.Module,
		"math":   math.Module,
		"re":     reModule,
		"random": newRandomModule(opt.Seed),
		"http":   httpModule,
		"log":    newLogModule(opt.Log),
		"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
	}
}

// newLogModule sends a script's log.debug/info/warn/error calls to sb's
// logger; arguments are joined with spaces as print() does.
func newLogModule(log zerolog.Logger) *starlarkstruct.Module {
	level := func(name string, lvl zerolog.Level) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(kwargs) > 0 {
				return nil, fmt.Errorf("%s: takes no keyword arguments", b.Name())
			}
			parts := make([]string, len(args))
			for i, a := range args {
				if s, ok := a.(starlark.String); ok {
					parts[i] = string(s)
				} else {
					parts[i] = a.String()
				}
			}
			log.WithLevel(lvl).Msg(strings.Join(parts, " "))
			return starlark.None, nil
		})
	}
	return &starlarkstruct.Module{Name: "log", Members: starlark.StringDict{
		"debug": level("log.debug", zerolog.DebugLevel),
		"info":  level("log.info", zerolog.InfoLevel),
		"warn":  level("log.warn", zerolog.WarnLevel),
		"error": level("log.error", zerolog.ErrorLevel),
	}}
}
