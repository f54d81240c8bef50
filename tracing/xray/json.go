package xray

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A strict, allocation-free JSON reader specialised for X-Ray traces. Every
// byte of a trace line and of each embedded Document is validated (RFC 8259:
// the reference rejected what Python's json rejects), but only the fields
// the breakdown needs are extracted; everything else is skipped in place.
// encoding/json would decode each trace twice (the Document is JSON inside
// a JSON string) through reflection, which is an order of magnitude slower.

// maxDepth bounds nesting, like any decoder must on untrusted input.
const maxDepth = 10000

// syntaxError is a JSON decoding failure; its text is the invalid row's
// message.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string {
	return "invalid JSON at character " + strconv.Itoa(e.off) + ": " + e.msg
}

type reader struct {
	data []byte
	i    int
}

func (r *reader) fail(msg string) error {
	if r.i >= len(r.data) {
		return &syntaxError{msg: "unexpected end of input", off: len(r.data)}
	}
	return &syntaxError{msg: msg, off: r.i}
}

func (r *reader) failChar(what string) error {
	if r.i >= len(r.data) {
		return r.fail("")
	}
	c := r.data[r.i]
	if c >= 0x20 && c < 0x7f {
		return r.fail("unexpected " + strconv.QuoteRune(rune(c)) + " " + what)
	}
	return r.fail("unexpected byte 0x" + strconv.FormatUint(uint64(c), 16) + " " + what)
}

func (r *reader) ws() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (r *reader) peek() byte {
	r.ws()
	if r.i < len(r.data) {
		return r.data[r.i]
	}
	return 0
}

// stringSpecial marks bytes that end the fast path inside a string.
var stringSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

// specialMask flags, in the high bit of each byte of the little-endian
// word w, the bytes that end the fast path inside a string: '"', '\\' and
// control characters. The classic "has zero byte" tricks can set spurious
// bits only above a genuine hit, so the lowest flagged byte is exact.
func specialMask(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((w-ones*0x20) & ^w | (q-ones) & ^q | (b-ones) & ^b) & highs
}

// str reads a string at r.i (which must be '"'), returning its raw contents
// (escapes still in place) and whether it has escapes.
func (r *reader) str() (raw []byte, escaped bool, err error) {
	d := r.data
	start := r.i + 1
	j := start
	for {
		if j+8 <= len(d) {
			m := specialMask(binary.LittleEndian.Uint64(d[j:]))
			if m == 0 {
				j += 8
				continue
			}
			j += bits.TrailingZeros64(m) >> 3
		} else {
			for j < len(d) && !stringSpecial[d[j]] {
				j++
			}
			if j >= len(d) {
				r.i = j
				return nil, false, r.fail("")
			}
		}
		switch d[j] {
		case '"':
			r.i = j + 1
			return d[start:j], escaped, nil
		case '\\':
			escaped = true
			n, err := r.escapeLen(j)
			if err != nil {
				return nil, false, err
			}
			j += n
		default:
			r.i = j
			return nil, false, r.fail("control character in string")
		}
	}
}

// escapeLen validates the escape sequence at d[j] == '\\' and returns its
// length.
func (r *reader) escapeLen(j int) (int, error) {
	d := r.data
	if j+1 >= len(d) {
		r.i = len(d)
		return 0, r.fail("")
	}
	switch d[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if j+6 > len(d) {
			r.i = len(d)
			return 0, r.fail("")
		}
		for k := j + 2; k < j+6; k++ {
			if unhex(d[k]) < 0 {
				r.i = k
				return 0, r.fail("invalid \\u escape in string")
			}
		}
		return 6, nil
	}
	r.i = j + 1
	return 0, r.fail("invalid escape in string")
}

// appendString validates the string at r.i (which must be '"') and
// appends its decoded contents to dst: one pass for the Document strings,
// which make up most of a trace.
func (r *reader) appendString(dst []byte) ([]byte, error) {
	d := r.data
	j := r.i + 1
	// The decoded string is never longer than the rest of the input; with
	// that much room (plus a word) the loop can store without checks.
	o := len(dst)
	dst = slices.Grow(dst, len(d)-j+8)
	out := dst[:cap(dst)]
	for {
		if j+8 <= len(d) {
			w := binary.LittleEndian.Uint64(d[j:])
			binary.LittleEndian.PutUint64(out[o:], w)
			m := specialMask(w)
			if m == 0 {
				j += 8
				o += 8
				continue
			}
			k := bits.TrailingZeros64(m) >> 3
			j += k
			o += k
		} else {
			for j < len(d) && !stringSpecial[d[j]] {
				out[o] = d[j]
				o++
				j++
			}
			if j >= len(d) {
				r.i = j
				return dst, r.fail("")
			}
		}
		switch d[j] {
		case '"':
			r.i = j + 1
			return out[:o], nil
		case '\\':
			if j+1 < len(d) && d[j+1] == '"' { // by far the most common
				out[o] = '"'
				o++
				j += 2
				continue
			}
			n, err := r.escapeLen(j)
			if err != nil {
				return dst, err
			}
			if n == 2 {
				out[o] = unescapeByte[d[j+1]]
				o++
				j += 2
				continue
			}
			ru := hex4(d[j+2:])
			j += 6
			if utf16.IsSurrogate(ru) && j+6 <= len(d) && d[j] == '\\' && d[j+1] == 'u' {
				if n2, err := r.escapeLen(j); err == nil && n2 == 6 {
					if r2 := utf16.DecodeRune(ru, hex4(d[j+2:])); r2 != utf8.RuneError {
						ru = r2
						j += 6
					}
				}
			}
			o += utf8.EncodeRune(out[o:], ru)
		default:
			r.i = j
			return dst, r.fail("control character in string")
		}
	}
}

var unescapeByte = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

func hex4(b []byte) rune {
	return rune(unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3]))
}

// unescape appends the decoded form of a raw string validated by str.
func unescape(dst, raw []byte) []byte {
	for len(raw) > 0 {
		k := 0
		for k < len(raw) && raw[k] != '\\' {
			k++
		}
		dst = append(dst, raw[:k]...)
		if k == len(raw) {
			break
		}
		c := raw[k+1]
		raw = raw[k+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw)
			raw = raw[4:]
			if utf16.IsSurrogate(r) && len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
				if r2 := utf16.DecodeRune(r, hex4(raw[2:])); r2 != utf8.RuneError {
					r = r2
					raw = raw[6:]
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

// number reads a number at r.i, returning its text.
func (r *reader) number() ([]byte, error) {
	d := r.data
	start := r.i
	j := r.i
	if j < len(d) && d[j] == '-' {
		j++
	}
	switch {
	case j < len(d) && d[j] == '0':
		j++
	case j < len(d) && d[j] >= '1' && d[j] <= '9':
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
	default:
		r.i = j
		return nil, r.failChar("in number")
	}
	if j < len(d) && d[j] == '.' {
		j++
		k := j
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		if j == k {
			r.i = j
			return nil, r.failChar("in number")
		}
	}
	if j < len(d) && (d[j] == 'e' || d[j] == 'E') {
		j++
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		k := j
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		if j == k {
			r.i = j
			return nil, r.failChar("in number")
		}
	}
	r.i = j
	return d[start:j], nil
}

func (r *reader) literal(word string) error {
	if len(r.data)-r.i >= len(word) && string(r.data[r.i:r.i+len(word)]) == word {
		r.i += len(word)
		return nil
	}
	return r.failChar("looking for a value")
}

// skip validates and skips one value; it reports the value's truthiness in
// Python's sense (true, non-zero, non-empty), which the reference used for
// flags such as "error".
func (r *reader) skip(depth int) (truthy bool, err error) {
	if depth > maxDepth {
		return false, r.fail("nesting too deep")
	}
	switch r.peek() {
	case '"':
		raw, _, err := r.str()
		return len(raw) > 0, err
	case '{':
		r.i++
		if r.peek() == '}' {
			r.i++
			return false, nil
		}
		for {
			if r.peek() != '"' {
				return false, r.failChar("looking for an object key")
			}
			if _, _, err := r.str(); err != nil {
				return false, err
			}
			if err := r.colon(); err != nil {
				return false, err
			}
			if _, err := r.skip(depth + 1); err != nil {
				return false, err
			}
			more, err := r.next('}')
			if err != nil || !more {
				return true, err
			}
		}
	case '[':
		r.i++
		if r.peek() == ']' {
			r.i++
			return false, nil
		}
		for {
			if _, err := r.skip(depth + 1); err != nil {
				return false, err
			}
			more, err := r.next(']')
			if err != nil || !more {
				return true, err
			}
		}
	case 't':
		return true, r.literal("true")
	case 'f':
		return false, r.literal("false")
	case 'n':
		return false, r.literal("null")
	default:
		num, err := r.number()
		if err != nil {
			return false, err
		}
		for _, c := range num {
			if c >= '1' && c <= '9' {
				return true, nil
			}
			if c == 'e' || c == 'E' {
				break
			}
		}
		return false, nil
	}
}

func (r *reader) colon() error {
	if r.peek() != ':' {
		return r.failChar("looking for ':' after object key")
	}
	r.i++
	return nil
}

// next consumes ',' (more elements follow) or the closing byte.
func (r *reader) next(closing byte) (more bool, err error) {
	switch c := r.peek(); c {
	case ',':
		r.i++
		return true, nil
	case closing:
		r.i++
		return false, nil
	}
	return false, r.failChar("looking for ',' or '" + string(closing) + "'")
}

// objectStart consumes '{' and reports whether the object has members.
func (r *reader) objectStart() (bool, error) {
	if r.peek() != '{' {
		return false, r.failChar("looking for '{'")
	}
	r.i++
	if r.peek() == '}' {
		r.i++
		return false, nil
	}
	return true, nil
}

// key reads an object key and the colon after it. Keys with escapes are
// decoded into scratch.
func (r *reader) key(scratch *[]byte) ([]byte, error) {
	if r.peek() != '"' {
		return nil, r.failChar("looking for an object key")
	}
	raw, esc, err := r.str()
	if err != nil {
		return nil, err
	}
	if esc {
		*scratch = unescape((*scratch)[:0], raw)
		raw = *scratch
	}
	return raw, r.colon()
}

// end checks that nothing but whitespace follows the value.
func (r *reader) end() error {
	if r.ws(); r.i < len(r.data) {
		return r.failChar("after the value")
	}
	return nil
}
