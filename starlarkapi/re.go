package starlarkapi

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// reModule offers Python-style search/match/findall/sub/split over Go's
// regexp (RE2 syntax: no backreferences or lookaround).
var reModule = &starlarkstruct.Module{Name: "re", Members: starlark.StringDict{
	"search":  starlark.NewBuiltin("re.search", reSearch),
	"match":   starlark.NewBuiltin("re.match", reSearch),
	"findall": starlark.NewBuiltin("re.findall", reFindall),
	"sub":     starlark.NewBuiltin("re.sub", reSub),
	"split":   starlark.NewBuiltin("re.split", reSplit),
}}

var reCache sync.Map // pattern → *regexp.Regexp

func compile(fn, pattern string) (*regexp.Regexp, error) {
	if re, ok := reCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: bad pattern %q: %v", fn, pattern, err)
	}
	reCache.Store(pattern, re)
	return re, nil
}

// reSearch implements re.search and re.match (match is anchored at the start).
func reSearch(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "string", &s); err != nil {
		return nil, err
	}
	if b.Name() == "re.match" {
		pattern = `^(?:` + pattern + `)`
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return starlark.None, nil
	}
	return newMatch(re, s, loc), nil
}

// newMatch builds a match object with group(), groups(), start(), end() and span().
func newMatch(re *regexp.Regexp, s string, loc []int) starlark.Value {
	group := func(i int) starlark.Value {
		if loc[2*i] < 0 {
			return starlark.None
		}
		return starlark.String(s[loc[2*i]:loc[2*i+1]])
	}
	index := func(fn string, v starlark.Value) (int, error) {
		switch v := v.(type) {
		case starlark.Int:
			i, ok := v.Int64()
			if ok && i >= 0 && int(i) <= re.NumSubexp() {
				return int(i), nil
			}
		case starlark.String:
			if i := re.SubexpIndex(string(v)); i >= 0 {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%s: no such group %s", fn, v)
	}
	groupFn := func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(kwargs) > 0 {
			return nil, fmt.Errorf("%s: unexpected keyword arguments", b.Name())
		}
		if len(args) == 0 {
			return group(0), nil
		}
		out := make(starlark.Tuple, len(args))
		for i, a := range args {
			g, err := index(b.Name(), a)
			if err != nil {
				return nil, err
			}
			out[i] = group(g)
		}
		if len(out) == 1 {
			return out[0], nil
		}
		return out, nil
	}
	groupsFn := func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		out := make(starlark.Tuple, re.NumSubexp())
		for i := range out {
			out[i] = group(i + 1)
		}
		return out, nil
	}
	pos := func(end bool) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var g starlark.Value = starlark.MakeInt(0)
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "group?", &g); err != nil {
				return nil, err
			}
			i, err := index(b.Name(), g)
			if err != nil {
				return nil, err
			}
			if end {
				return starlark.MakeInt(loc[2*i+1]), nil
			}
			return starlark.MakeInt(loc[2*i]), nil
		}
	}
	return starlarkstruct.FromStringDict(starlark.String("match"), starlark.StringDict{
		"string": starlark.String(s),
		"group":  starlark.NewBuiltin("group", groupFn),
		"groups": starlark.NewBuiltin("groups", groupsFn),
		"start":  starlark.NewBuiltin("start", pos(false)),
		"end":    starlark.NewBuiltin("end", pos(true)),
	})
}

// reFindall follows Python: whole matches without groups, the group's text
// with one group, tuples of groups with several.
func reFindall(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "string", &s); err != nil {
		return nil, err
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		switch len(m) {
		case 1:
			out = append(out, starlark.String(m[0]))
		case 2:
			out = append(out, starlark.String(m[1]))
		default:
			t := make(starlark.Tuple, len(m)-1)
			for i, g := range m[1:] {
				t[i] = starlark.String(g)
			}
			out = append(out, t)
		}
	}
	return starlark.NewList(out), nil
}

// reSub replaces matches; repl uses Python's notation (\1, \g<name>) and a
// literal $ stays literal.
func reSub(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, repl, s string
	count := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "repl", &repl, "string", &s, "count?", &count); err != nil {
		return nil, err
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	template := pythonTemplate(repl)
	var out strings.Builder
	last, n := 0, 0
	for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
		if count > 0 && n == count {
			break
		}
		out.WriteString(s[last:loc[0]])
		out.Write(re.ExpandString(nil, template, s, loc))
		last = loc[1]
		n++
	}
	out.WriteString(s[last:])
	return starlark.String(out.String()), nil
}

// pythonTemplate rewrites a Python replacement string into Go's Expand syntax.
func pythonTemplate(repl string) string {
	var t strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '$':
			t.WriteString("$$")
		case c == '\\' && i+1 < len(repl):
			next := repl[i+1]
			switch {
			case next >= '0' && next <= '9':
				j := i + 1
				for j < len(repl) && repl[j] >= '0' && repl[j] <= '9' && j < i+3 {
					j++
				}
				t.WriteString("${" + repl[i+1:j] + "}")
				i = j - 1
			case next == 'g' && i+2 < len(repl) && repl[i+2] == '<':
				if end := strings.IndexByte(repl[i+3:], '>'); end >= 0 {
					t.WriteString("${" + repl[i+3:i+3+end] + "}")
					i = i + 3 + end
				} else {
					t.WriteByte(c)
				}
			case next == 'n':
				t.WriteByte('\n')
				i++
			case next == 't':
				t.WriteByte('\t')
				i++
			case next == '\\':
				t.WriteByte('\\')
				i++
			default:
				t.WriteByte(c)
			}
		default:
			t.WriteByte(c)
		}
	}
	return t.String()
}

func reSplit(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, s string
	maxsplit := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "string", &s, "maxsplit?", &maxsplit); err != nil {
		return nil, err
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	n := -1
	if maxsplit > 0 {
		n = maxsplit + 1
	}
	parts := re.Split(s, n)
	out := make([]starlark.Value, len(parts))
	for i, p := range parts {
		out[i] = starlark.String(p)
	}
	return starlark.NewList(out), nil
}
