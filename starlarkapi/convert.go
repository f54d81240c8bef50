package starlarkapi

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"gopkg.in/yaml.v3"
)

// CheckJSON reports whether v may be stored in spec: None, bool, int, finite
// float, string, list and dict with string keys, nested to any depth. The
// error names the offending part so the user can find it.
func CheckJSON(v starlark.Value) error {
	return checkJSON(v, 0)
}

func checkJSON(v starlark.Value, depth int) error {
	if depth > 100 {
		return fmt.Errorf("value nests deeper than 100 levels (or contains itself)")
	}
	switch v := v.(type) {
	case starlark.NoneType, starlark.Bool, starlark.Int, starlark.String:
		return nil
	case starlark.Float:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("float %v has no JSON representation", v)
		}
		return nil
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			if err := checkJSON(v.Index(i), depth+1); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	case *starlark.Dict:
		for _, item := range v.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return fmt.Errorf("dict key %s is a %s, only string keys are allowed", item[0], item[0].Type())
			}
			if err := checkJSON(item[1], depth+1); err != nil {
				return fmt.Errorf("[%q]: %w", string(k), err)
			}
		}
		return nil
	}
	hint := ""
	if _, ok := v.(starlark.Tuple); ok {
		hint = " (convert it with list())"
	}
	return fmt.Errorf("a %s is not a JSON-compatible value%s; use None, bool, int, float, string, list or dict", v.Type(), hint)
}

// DecodeYAML turns a YAML node into Starlark values, keeping the order of
// mappings (they become dicts in document order). Timestamps and other
// YAML-only scalars become strings.
func DecodeYAML(n *yaml.Node) (starlark.Value, error) {
	switch n.Kind {
	case 0: // an empty document
		return starlark.None, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return starlark.None, nil
		}
		return DecodeYAML(n.Content[0])
	case yaml.AliasNode:
		return DecodeYAML(n.Alias)
	case yaml.SequenceNode:
		elems := make([]starlark.Value, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := DecodeYAML(c)
			if err != nil {
				return nil, err
			}
			elems = append(elems, v)
		}
		return starlark.NewList(elems), nil
	case yaml.MappingNode:
		d := starlark.NewDict(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys (<<) are not supported", kn.Line)
			}
			if kn.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping keys must be plain strings", kn.Line)
			}
			v, err := DecodeYAML(vn)
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(starlark.String(kn.Value), v); err != nil {
				return nil, err
			}
		}
		return d, nil
	case yaml.ScalarNode:
		return decodeScalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func decodeScalar(n *yaml.Node) (starlark.Value, error) {
	switch n.ShortTag() {
	case "!!null":
		return starlark.None, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return starlark.Bool(b), nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return starlark.MakeInt64(i), nil
		}
		z, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 0)
		if !ok {
			return nil, fmt.Errorf("line %d: cannot read integer %q", n.Line, n.Value)
		}
		return starlark.MakeBigInt(z), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return starlark.Float(f), nil
	}
	return starlark.String(n.Value), nil
}

// EncodeYAML turns a JSON-compatible Starlark value into a YAML node, keeping
// dict order. Floats always keep a decimal point so they read back as floats.
func EncodeYAML(v starlark.Value) (*yaml.Node, error) {
	if err := CheckJSON(v); err != nil {
		return nil, err
	}
	return encodeYAML(v), nil
}

func encodeYAML(v starlark.Value) *yaml.Node {
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return scalar("!!null", "null")
	case starlark.Bool:
		return scalar("!!bool", strconv.FormatBool(bool(v)))
	case starlark.Int:
		return scalar("!!int", v.String())
	case starlark.Float:
		s := strconv.FormatFloat(float64(v), 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return scalar("!!float", s)
	case starlark.String:
		n := scalar("!!str", string(v))
		switch {
		case strings.Contains(string(v), "\n"):
			n.Style = yaml.LiteralStyle
		case yaml11Bools[strings.ToLower(string(v))]:
			// YAML 1.1 readers (PyYAML, so ServiBench's tooling) would read
			// these plain words as booleans.
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	case *starlark.List:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, encodeYAML(v.Index(i)))
		}
		return n
	case *starlark.Dict:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, item := range v.Items() {
			n.Content = append(n.Content, scalar("!!str", string(item[0].(starlark.String))), encodeYAML(item[1]))
		}
		return n
	}
	panic(fmt.Sprintf("encodeYAML: unchecked %s", v.Type())) // unreachable after CheckJSON
}

var yaml11Bools = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true}

// ToGo converts a JSON-compatible Starlark value into plain Go values:
// nil, bool, int64 (or *big.Int), float64, string, []any, map[string]any.
func ToGo(v starlark.Value) (any, error) {
	if err := CheckJSON(v); err != nil {
		return nil, err
	}
	return toGo(v), nil
}

func toGo(v starlark.Value) any {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.Bool:
		return bool(v)
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return i
		}
		return v.BigInt()
	case starlark.Float:
		return float64(v)
	case starlark.String:
		return string(v)
	case *starlark.List:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = toGo(v.Index(i))
		}
		return out
	case *starlark.Dict:
		out := make(map[string]any, v.Len())
		for _, item := range v.Items() {
			out[string(item[0].(starlark.String))] = toGo(item[1])
		}
		return out
	}
	return nil
}

// DeepCopy returns a mutable copy of a JSON-compatible value, so that a
// frozen value (a global of the script) can be stored in spec and changed
// there, and so that stored values never alias the script's own.
func DeepCopy(v starlark.Value) starlark.Value {
	switch v := v.(type) {
	case *starlark.List:
		elems := make([]starlark.Value, v.Len())
		for i := range elems {
			elems[i] = DeepCopy(v.Index(i))
		}
		return starlark.NewList(elems)
	case *starlark.Dict:
		out := starlark.NewDict(v.Len())
		for _, item := range v.Items() {
			_ = out.SetKey(item[0], DeepCopy(item[1]))
		}
		return out
	}
	return v
}
