package starlarkapi

import (
	"fmt"
	"math/rand/v2"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// newRandomModule provides the parts of Python's random module benchmarks use
// (deploy ids, sampling). With a seed the sequence is reproducible.
func newRandomModule(seed *int64) *starlarkstruct.Module {
	s := uint64(time.Now().UnixNano())
	if seed != nil {
		s = uint64(*seed)
	}
	rng := rand.New(rand.NewPCG(s, 0x5eed))
	return &starlarkstruct.Module{Name: "random", Members: starlark.StringDict{
		"randint": starlark.NewBuiltin("random.randint", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var a, c int64
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &a, "b", &c); err != nil {
				return nil, err
			}
			if c < a {
				return nil, fmt.Errorf("%s: empty range [%d, %d]", b.Name(), a, c)
			}
			return starlark.MakeInt64(a + rng.Int64N(c-a+1)), nil
		}),
		"random": starlark.NewBuiltin("random.random", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return starlark.Float(rng.Float64()), nil
		}),
		"uniform": starlark.NewBuiltin("random.uniform", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var a, c float64
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &a, "b", &c); err != nil {
				return nil, err
			}
			return starlark.Float(a + (c-a)*rng.Float64()), nil
		}),
		"choice": starlark.NewBuiltin("random.choice", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var seq starlark.Indexable
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seq", &seq); err != nil {
				return nil, err
			}
			if seq.Len() == 0 {
				return nil, fmt.Errorf("%s: cannot choose from an empty sequence", b.Name())
			}
			return seq.Index(rng.IntN(seq.Len())), nil
		}),
		"shuffle": starlark.NewBuiltin("random.shuffle", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var list *starlark.List
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &list); err != nil {
				return nil, err
			}
			var err error
			rng.Shuffle(list.Len(), func(i, j int) {
				vi, vj := list.Index(i), list.Index(j)
				if e := list.SetIndex(i, vj); e != nil {
					err = e
				}
				if e := list.SetIndex(j, vi); e != nil {
					err = e
				}
			})
			return starlark.None, err
		}),
	}}
}
