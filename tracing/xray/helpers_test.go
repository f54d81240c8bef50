package xray

import (
	"bytes"
	"encoding/json"
	"strconv"
)

func jsonIndent(dst *bytes.Buffer, src []byte) error { return json.Indent(dst, src, "", "  ") }

func parseInt(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
