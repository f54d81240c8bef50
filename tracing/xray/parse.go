package xray

import (
	"bytes"
	"strconv"
)

// segDoc is one segment or subsegment document, decoded into the fields the
// breakdown needs. Byte slices point into the traceParser's buffers.
type segDoc struct {
	id, name, parent, origin, url          []byte
	hasID, hasName, hasParent, hasOrigin   bool
	hasURL                                 bool
	start, end                             float64
	hasStart, hasEnd, startInt, endInt     bool
	inProgress, errorFlag, fault, throttle bool
	// problem names a field of the wrong type ("" when all is well).
	problem string
	// The subsegments are kids[kidsOff : kidsOff+kidsLen].
	kidsOff, kidsLen int32
}

// segRef is one element of the trace's Segments array.
type segRef struct {
	// doc is the Document text's range in docBuf; problem is set when the
	// element has no usable Document.
	docOff, docEnd int
	problem        string
	wrapperID      []byte
}

// traceDoc is the outer trace object of a traces.json line.
type traceDoc struct {
	id                   []byte
	hasID, idBad         bool
	hasDuration, durBad  bool
	duration             float64
	hasSegments, segsBad bool
	hasTraces, tracesBad bool
	segs                 []segRef
	traces               [][2]int // element ranges of a Traces array
}

// traceParser decodes traces; its buffers are reused from trace to trace.
type traceParser struct {
	docBuf []byte // unescaped Document texts
	strBuf []byte // unescaped strings that had escapes
	keyBuf []byte
	docs   []segDoc
	kids   []int32
	stack  []int32
	tops   []int32 // document index of each Segments element, -1 if unusable
	tr     traceDoc
}

func (p *traceParser) reset() {
	p.docBuf = p.docBuf[:0]
	p.strBuf = p.strBuf[:0]
	p.docs = p.docs[:0]
	p.kids = p.kids[:0]
	p.stack = p.stack[:0]
	p.tops = p.tops[:0]
	segs, traces := p.tr.segs[:0], p.tr.traces[:0]
	clear(segs[:cap(segs)])
	p.tr = traceDoc{segs: segs, traces: traces}
}

// parseTrace decodes the outer trace object of data, validating all of it.
// A non-nil error means data is not JSON (or not an object).
func (p *traceParser) parseTrace(data []byte) error {
	p.reset()
	r := reader{data: data}
	if r.peek() != '{' {
		if _, err := r.skip(0); err != nil {
			return err
		}
		if err := r.end(); err != nil {
			return err
		}
		return errNotObject
	}
	more, err := r.objectStart()
	for more && err == nil {
		var k []byte
		if k, err = r.key(&p.keyBuf); err != nil {
			break
		}
		switch string(k) {
		case "Id":
			p.tr.hasID = true
			p.tr.id, p.tr.idBad, err = p.stringValue(&r)
		case "Duration":
			p.tr.hasDuration = true
			p.tr.duration, p.tr.durBad, err = numberValue(&r)
		case "Segments":
			p.tr.hasSegments = true
			err = p.segments(&r)
		case "Traces":
			p.tr.hasTraces = true
			err = p.traces(&r)
		default:
			_, err = r.skip(1)
		}
		if err == nil {
			more, err = r.next('}')
		}
	}
	if err != nil {
		return err
	}
	return r.end()
}

type notObjectError struct{}

func (notObjectError) Error() string { return "the trace is not a JSON object" }

var errNotObject error = notObjectError{}

// stringValue reads a string (bad is true for any other type, which is
// skipped).
func (p *traceParser) stringValue(r *reader) (s []byte, bad bool, err error) {
	if r.peek() != '"' {
		_, err = r.skip(1)
		return nil, true, err
	}
	raw, esc, err := r.str()
	if err != nil || !esc {
		return raw, false, err
	}
	off := len(p.strBuf)
	p.strBuf = unescape(p.strBuf, raw)
	return p.strBuf[off:len(p.strBuf):len(p.strBuf)], false, nil
}

// numberValue reads a number (bad is true for any other type).
func numberValue(r *reader) (f float64, bad bool, err error) {
	f, _, bad, err = numberValueInt(r)
	return f, bad, err
}

// numberValueInt is numberValue that also tells whether the number was
// written as an integer.
func numberValueInt(r *reader) (f float64, isInt, bad bool, err error) {
	c := r.peek()
	if c != '-' && (c < '0' || c > '9') {
		_, err = r.skip(1)
		return 0, false, true, err
	}
	num, err := r.number()
	if err != nil {
		return 0, false, false, err
	}
	f, isInt, ok := parseFloatFast(num)
	if !ok {
		var perr error
		f, perr = strconv.ParseFloat(string(num), 64)
		if perr != nil { // out of float range: the reference failed too
			return 0, false, true, nil
		}
		isInt = bytes.IndexAny(num, ".eE") < 0
	}
	return f, isInt, false, nil
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloatFast converts the common timestamps (a mantissa up to 2^53, a
// small exponent) exactly: the digits form an integer that float64
// holds exactly, and one multiplication or division by an exact power of
// ten is correctly rounded, the same result strconv.ParseFloat gives. ok is
// false for anything else, which the caller hands to strconv.
func parseFloatFast(num []byte) (f float64, isInt, ok bool) {
	i := 0
	neg := false
	if i < len(num) && num[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits, exp := 0, 0
	isInt = true
	for ; i < len(num); i++ {
		c := num[i]
		switch {
		case c >= '0' && c <= '9':
			if mant != 0 || c != '0' {
				digits++
			}
			mant = mant*10 + uint64(c-'0')
			if !isInt {
				exp--
			}
		case c == '.':
			isInt = false
		default: // exponent
			isInt = false
			e, sign := 0, 1
			i++
			if i < len(num) && (num[i] == '+' || num[i] == '-') {
				if num[i] == '-' {
					sign = -1
				}
				i++
			}
			if len(num)-i > 3 {
				return 0, false, false
			}
			for ; i < len(num); i++ {
				e = e*10 + int(num[i]-'0')
			}
			exp += sign * e
		}
		if digits > 19 {
			return 0, false, false
		}
	}
	if mant > 1<<53 {
		return 0, false, false
	}
	f = float64(mant)
	switch {
	case exp == 0:
	case exp > 0 && exp < len(pow10):
		f *= pow10[exp]
	case exp < 0 && -exp < len(pow10):
		f /= pow10[-exp]
	default:
		return 0, false, false
	}
	if neg {
		f = -f
	}
	return f, isInt, true
}

func (p *traceParser) segments(r *reader) error {
	p.tr.segs = p.tr.segs[:0] // a repeated key replaces the earlier value
	p.tr.segsBad = false
	if r.peek() != '[' {
		p.tr.segsBad = true
		_, err := r.skip(1)
		return err
	}
	r.i++
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		ref := segRef{problem: "has no Document"}
		if r.peek() != '{' {
			ref.problem = "is not an object"
			if _, err := r.skip(2); err != nil {
				return err
			}
		} else {
			more, err := r.objectStart()
			for more && err == nil {
				var k []byte
				if k, err = r.key(&p.keyBuf); err != nil {
					return err
				}
				switch string(k) {
				case "Document":
					if r.peek() != '"' {
						ref.problem = "has a Document that is not a string"
						_, err = r.skip(2)
						break
					}
					ref.docOff = len(p.docBuf)
					if p.docBuf, err = r.appendString(p.docBuf); err != nil {
						return err
					}
					ref.docEnd = len(p.docBuf)
					ref.problem = ""
				case "Id":
					var bad bool
					ref.wrapperID, bad, err = p.stringValue(r)
					if bad {
						ref.wrapperID = nil
					}
				default:
					_, err = r.skip(2)
				}
				if err == nil {
					more, err = r.next('}')
				}
			}
			if err != nil {
				return err
			}
		}
		p.tr.segs = append(p.tr.segs, ref)
		more, err := r.next(']')
		if err != nil || !more {
			return err
		}
	}
}

func (p *traceParser) traces(r *reader) error {
	p.tr.traces = p.tr.traces[:0]
	p.tr.tracesBad = false
	if r.peek() != '[' {
		p.tr.tracesBad = true
		_, err := r.skip(1)
		return err
	}
	r.i++
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		r.ws()
		start := r.i
		if _, err := r.skip(2); err != nil {
			return err
		}
		p.tr.traces = append(p.tr.traces, [2]int{start, r.i})
		more, err := r.next(']')
		if err != nil || !more {
			return err
		}
	}
}

// parseDocuments decodes every Segments element's Document, in order, into
// p.docs; p.tops gets each element's document index. It returns a message
// for the first element that is unusable.
func (p *traceParser) parseDocuments() string {
	for k := range p.tr.segs {
		ref := &p.tr.segs[k]
		if ref.problem != "" {
			return "Segment " + segName(ref, k) + " " + ref.problem + "."
		}
		r := reader{data: p.docBuf[ref.docOff:ref.docEnd]}
		if r.peek() != '{' {
			if _, err := r.skip(0); err != nil {
				return "Document of segment " + segName(ref, k) + " is not valid JSON: " + err.Error()
			}
			if err := r.end(); err != nil {
				return "Document of segment " + segName(ref, k) + " is not valid JSON: " + err.Error()
			}
			return "Document of segment " + segName(ref, k) + " is not a JSON object."
		}
		d, err := p.doc(&r, 1)
		if err == nil {
			err = r.end()
		}
		if err != nil {
			return "Document of segment " + segName(ref, k) + " is not valid JSON: " + err.Error()
		}
		p.tops = append(p.tops, d)
	}
	return ""
}

func segName(ref *segRef, k int) string {
	if len(ref.wrapperID) > 0 {
		return string(ref.wrapperID)
	}
	return "#" + strconv.Itoa(k+1)
}

// doc decodes one (sub)segment document object at r and its subsegments,
// returning its index in p.docs.
func (p *traceParser) doc(r *reader, depth int) (int32, error) {
	if depth > maxDepth {
		return 0, r.fail("nesting too deep")
	}
	idx := int32(len(p.docs))
	p.docs = append(p.docs, segDoc{})
	var d segDoc // filled locally: p.docs may move while subsegments decode
	more, err := r.objectStart()
	for more && err == nil {
		var k []byte
		if k, err = r.key(&p.keyBuf); err != nil {
			return 0, err
		}
		var bad bool
		switch string(k) {
		case "id":
			d.id, bad, err = p.stringValue(r)
			d.hasID = !bad
			if bad {
				d.problem = "an id that is not a string"
			}
		case "name":
			// A null name is written as null in longest_path_names.
			if r.peek() == 'n' {
				err = r.literal("null")
				d.hasName = false
				break
			}
			d.name, bad, err = p.stringValue(r)
			d.hasName = !bad
		case "parent_id":
			d.parent, bad, err = p.stringValue(r)
			d.hasParent = true
			if bad {
				d.problem = "a parent_id that is not a string"
			}
		case "origin":
			d.origin, bad, err = p.stringValue(r)
			d.hasOrigin = !bad
		case "start_time":
			d.start, d.startInt, bad, err = numberValueInt(r)
			d.hasStart = true
			if bad {
				d.problem = "a start_time that is not a number"
			}
		case "end_time":
			d.end, d.endInt, bad, err = numberValueInt(r)
			d.hasEnd = true
			if bad {
				d.problem = "an end_time that is not a number"
			}
		case "in_progress":
			d.inProgress, err = r.skip(depth + 1)
		case "error":
			d.errorFlag, err = r.skip(depth + 1)
		case "fault":
			d.fault, err = r.skip(depth + 1)
		case "throttle":
			d.throttle, err = r.skip(depth + 1)
		case "http":
			d.url, d.hasURL, err = p.httpURL(r, depth+1)
		case "subsegments":
			d.kidsOff, d.kidsLen, bad, err = p.subsegments(r, depth+1)
			if bad {
				d.problem = "subsegments that are not a list of objects"
			}
		default:
			_, err = r.skip(depth + 1)
		}
		if err == nil {
			more, err = r.next('}')
		}
	}
	if err != nil {
		return 0, err
	}
	p.docs[idx] = d
	return idx, nil
}

// httpURL extracts http.request.url.
func (p *traceParser) httpURL(r *reader, depth int) (url []byte, ok bool, err error) {
	if r.peek() != '{' {
		_, err = r.skip(depth)
		return nil, false, err
	}
	more, err := r.objectStart()
	for more && err == nil {
		var k []byte
		if k, err = r.key(&p.keyBuf); err != nil {
			return nil, false, err
		}
		if string(k) == "request" && r.peek() == '{' {
			url, ok = nil, false
			more2, err2 := r.objectStart()
			for more2 && err2 == nil {
				var k2 []byte
				if k2, err2 = r.key(&p.keyBuf); err2 != nil {
					return nil, false, err2
				}
				if string(k2) == "url" {
					var bad bool
					url, bad, err2 = p.stringValue(r)
					ok = !bad
				} else {
					_, err2 = r.skip(depth + 2)
				}
				if err2 == nil {
					more2, err2 = r.next('}')
				}
			}
			err = err2
		} else {
			if string(k) == "request" {
				url, ok = nil, false
			}
			_, err = r.skip(depth + 1)
		}
		if err == nil {
			more, err = r.next('}')
		}
	}
	return url, ok, err
}

// subsegments decodes a subsegments array; the children's indices end up
// contiguous in p.kids.
func (p *traceParser) subsegments(r *reader, depth int) (off, n int32, bad bool, err error) {
	if r.peek() != '[' {
		_, err = r.skip(depth)
		return 0, 0, true, err
	}
	r.i++
	if r.peek() == ']' {
		r.i++
		return int32(len(p.kids)), 0, false, nil
	}
	base := len(p.stack)
	for {
		if r.peek() != '{' {
			bad = true
			if _, err = r.skip(depth + 1); err != nil {
				return 0, 0, false, err
			}
		} else {
			var d int32
			if d, err = p.doc(r, depth+1); err != nil {
				return 0, 0, false, err
			}
			p.stack = append(p.stack, d)
		}
		var more bool
		if more, err = r.next(']'); err != nil {
			return 0, 0, false, err
		}
		if !more {
			break
		}
	}
	off = int32(len(p.kids))
	p.kids = append(p.kids, p.stack[base:]...)
	n = int32(len(p.stack) - base)
	p.stack = p.stack[:base]
	return off, n, bad, nil
}
