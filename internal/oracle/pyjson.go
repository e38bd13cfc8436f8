package oracle

// This file prints values exactly as Python 3's json.dumps(obj, indent=1)
// does (ensure_ascii=True, sort_keys=False, separators (',', ': ')).

import (
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/supersede/supersede/translate"
)

// Field is one key of an ordered JSON object.
type Field struct {
	Key   string
	Value any
}

// Object is a JSON object whose keys keep their order. Keys are written as
// given: a repeated key is written twice (a Python dict cannot hold that).
type Object []Field

// jsonMaxDepth bounds the nesting Marshal follows, so that a slice that
// contains itself cannot recurse forever. Python would raise "Circular
// reference detected"; Marshal writes the string "<too deep>" instead.
const jsonMaxDepth = 1000

// Marshal renders v as Python's json.dumps(v, indent=1) does, without a
// trailing newline. Strings are Go strings holding UTF-8: non-ASCII is
// written as \uXXXX (surrogate pairs for astral characters), a WTF-8
// encoded surrogate as that surrogate, and a byte that is not UTF-8, 0xNN,
// as \udcNN (Python's surrogateescape reading of it).
//
// v may be nil, bool, int, int64, string, []any, []string, []int, Object,
// *string or *int (nil pointers give null), and further: any other integer
// type, float32/float64 (Python's float repr; NaN, Infinity, -Infinity), any
// type whose underlying type is one of these kinds, slices and arrays, maps
// with string keys (keys sorted, since Go maps have no order) and pointers
// to any of these. Marshal never panics: any other value (a struct, a
// channel, a function, a complex number, a map with other keys) is written
// as the JSON string fmt.Sprint(v) (String() for a fmt.Stringer), and an
// error whose type is not one of the above as the string v.Error().
func Marshal(v any) []byte {
	e := jsonEncoder{buf: make([]byte, 0, 64<<10)}
	e.value(v, 0)
	return e.buf
}

// Append appends what Marshal returns to buf: for many small documents,
// one buffer.
func Append(buf []byte, v any) []byte {
	e := jsonEncoder{buf: buf}
	e.value(v, 0)
	return e.buf
}

// AppendString appends s as Marshal writes a string: in double quotes,
// with Python's ensure_ascii escaping.
func AppendString(buf []byte, s string) []byte {
	e := jsonEncoder{buf: buf}
	e.str(s)
	return e.buf
}

// Write writes what Marshal returns to w, a buffer at a time, so that a
// large document is never held in memory whole.
func Write(w io.Writer, v any) error {
	e := jsonEncoder{buf: make([]byte, 0, 2*jsonFlushAt), w: w}
	e.value(v, 0)
	e.flush()
	return e.err
}

// jsonFlushAt is how much Write buffers before it writes.
const jsonFlushAt = 32 << 10

// jsonEncoder accumulates the output of Marshal (w nil) or Write.
type jsonEncoder struct {
	buf []byte
	w   io.Writer
	err error
}

// flush writes the buffer to w, if there is one.
func (e *jsonEncoder) flush() {
	if e.w == nil || len(e.buf) == 0 {
		return
	}
	if e.err == nil {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

// newline starts a new line indented for the given depth.
func (e *jsonEncoder) newline(depth int) {
	if e.w != nil && len(e.buf) >= jsonFlushAt {
		e.flush()
	}
	e.buf = append(e.buf, '\n')
	for range depth {
		e.buf = append(e.buf, ' ')
	}
}

// value writes v at the given nesting depth.
func (e *jsonEncoder) value(v any, depth int) {
	if depth > jsonMaxDepth {
		e.str("<too deep>")
		return
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.bool(x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case string:
		e.str(x)
	case *string:
		if x == nil {
			e.buf = append(e.buf, "null"...)
		} else {
			e.str(*x)
		}
	case *int:
		if x == nil {
			e.buf = append(e.buf, "null"...)
		} else {
			e.buf = strconv.AppendInt(e.buf, int64(*x), 10)
		}
	case float64:
		e.float(x)
	case Object:
		e.object(x, depth)
	case []any:
		if len(x) == 0 {
			e.buf = append(e.buf, '[', ']')
			return
		}
		e.buf = append(e.buf, '[')
		for i, item := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.newline(depth + 1)
			e.value(item, depth+1)
		}
		e.newline(depth)
		e.buf = append(e.buf, ']')
	case []string:
		e.list(len(x), depth, func(i int) { e.str(x[i]) })
	case []int:
		e.list(len(x), depth, func(i int) { e.buf = strconv.AppendInt(e.buf, int64(x[i]), 10) })
	case error:
		e.str(x.Error())
	default:
		e.reflect(reflect.ValueOf(v), depth)
	}
}

// bool writes true or false.
func (e *jsonEncoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, "true"...)
	} else {
		e.buf = append(e.buf, "false"...)
	}
}

// list writes a list of n items, each written by item(i).
func (e *jsonEncoder) list(n, depth int, item func(i int)) {
	if n == 0 {
		e.buf = append(e.buf, '[', ']')
		return
	}
	e.buf = append(e.buf, '[')
	for i := range n {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		item(i)
	}
	e.newline(depth)
	e.buf = append(e.buf, ']')
}

// object writes an ordered object.
func (e *jsonEncoder) object(o Object, depth int) {
	if len(o) == 0 {
		e.buf = append(e.buf, '{', '}')
		return
	}
	e.buf = append(e.buf, '{')
	for i, f := range o {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		e.str(f.Key)
		e.buf = append(e.buf, ':', ' ')
		e.value(f.Value, depth+1)
	}
	e.newline(depth)
	e.buf = append(e.buf, '}')
}

// reflect writes the values the type switch in value does not know.
func (e *jsonEncoder) reflect(rv reflect.Value, depth int) {
	switch rv.Kind() {
	case reflect.Invalid:
		e.buf = append(e.buf, "null"...)
		return
	case reflect.Bool:
		e.bool(rv.Bool())
		return
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, rv.Int(), 10)
		return
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, rv.Uint(), 10)
		return
	case reflect.Float32, reflect.Float64:
		e.float(rv.Float())
		return
	case reflect.String:
		e.str(rv.String())
		return
	case reflect.Pointer, reflect.Interface:
		switch {
		case rv.IsNil():
			e.buf = append(e.buf, "null"...)
		case rv.Elem().Kind() == reflect.Struct && rv.CanInterface():
			e.str(fmt.Sprint(rv.Interface())) // keeps a String method of the pointer
		default:
			e.value(rv.Elem().Interface(), depth+1)
		}
		return
	case reflect.Slice:
		if rv.IsNil() {
			e.buf = append(e.buf, '[', ']')
			return
		}
		fallthrough
	case reflect.Array:
		e.list(rv.Len(), depth, func(i int) { e.value(rv.Index(i).Interface(), depth+1) })
		return
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			keys := rv.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			o := make(Object, len(keys))
			for i, k := range keys {
				o[i] = Field{k.String(), rv.MapIndex(k).Interface()}
			}
			e.object(o, depth)
			return
		}
	}
	if rv.CanInterface() {
		e.str(fmt.Sprint(rv.Interface()))
	} else {
		e.str(rv.String())
	}
}

// float writes f as Python's float.__repr__ (json.dumps allows NaN and
// infinities by default and writes them as NaN, Infinity, -Infinity).
func (e *jsonEncoder) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.buf = append(e.buf, "NaN"...)
		return
	case math.IsInf(f, 1):
		e.buf = append(e.buf, "Infinity"...)
		return
	case math.IsInf(f, -1):
		e.buf = append(e.buf, "-Infinity"...)
		return
	}
	// Shortest round-trip digits, as repr() uses; then repr's layout:
	// scientific when the decimal exponent is < -4 or >= 16.
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	if s[0] == '-' {
		e.buf = append(e.buf, '-')
		s = s[1:]
	}
	ie := slices.Index(s, 'e')
	exp, _ := strconv.Atoi(string(s[ie+1:]))
	digits := make([]byte, 0, 20)
	digits = append(digits, s[0])
	if ie > 1 {
		digits = append(digits, s[2:ie]...)
	}
	if exp < -4 || exp >= 16 {
		e.buf = append(e.buf, digits[0])
		if len(digits) > 1 {
			e.buf = append(e.buf, '.')
			e.buf = append(e.buf, digits[1:]...)
		}
		e.buf = append(e.buf, 'e')
		if exp < 0 {
			e.buf = append(e.buf, '-')
			exp = -exp
		} else {
			e.buf = append(e.buf, '+')
		}
		if exp < 10 {
			e.buf = append(e.buf, '0')
		}
		e.buf = strconv.AppendInt(e.buf, int64(exp), 10)
		return
	}
	switch {
	case exp < 0:
		e.buf = append(e.buf, '0', '.')
		for i := -1; i > exp; i-- {
			e.buf = append(e.buf, '0')
		}
		e.buf = append(e.buf, digits...)
	case len(digits) <= exp+1:
		e.buf = append(e.buf, digits...)
		for i := len(digits); i <= exp; i++ {
			e.buf = append(e.buf, '0')
		}
		e.buf = append(e.buf, '.', '0')
	default:
		e.buf = append(e.buf, digits[:exp+1]...)
		e.buf = append(e.buf, '.')
		e.buf = append(e.buf, digits[exp+1:]...)
	}
}

// str writes s as a JSON string with Python's ensure_ascii escaping.
func (e *jsonEncoder) str(s string) {
	const hex = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= ' ' && c <= '~' && c != '"' && c != '\\' {
			// Copy the run of plain characters at once.
			j := i + 1
			for j < len(s) && s[j] >= ' ' && s[j] <= '~' && s[j] != '"' && s[j] != '\\' {
				j++
			}
			e.buf = append(e.buf, s[i:j]...)
			i = j
			continue
		}
		r, n := translate.PyDecode(s, i)
		i += n
		switch r {
		case '"':
			e.buf = append(e.buf, '\\', '"')
		case '\\':
			e.buf = append(e.buf, '\\', '\\')
		case '\n':
			e.buf = append(e.buf, '\\', 'n')
		case '\r':
			e.buf = append(e.buf, '\\', 'r')
		case '\t':
			e.buf = append(e.buf, '\\', 't')
		case '\b':
			e.buf = append(e.buf, '\\', 'b')
		case '\f':
			e.buf = append(e.buf, '\\', 'f')
		default:
			if r >= 0x10000 {
				r -= 0x10000
				hi, lo := 0xD800|(r>>10)&0x3FF, 0xDC00|r&0x3FF
				e.buf = append(e.buf, '\\', 'u', hex[hi>>12], hex[hi>>8&0xF], hex[hi>>4&0xF], hex[hi&0xF])
				r = lo
			}
			e.buf = append(e.buf, '\\', 'u', hex[r>>12], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
		}
	}
	e.buf = append(e.buf, '"')
}
