package xmlrpc

// The codec is written by hand, on encoding/xml's tokenizer. The Go
// XML-RPC libraries (kolo/xmlrpc and its forks, alexejk.io/go-xmlrpc) are
// clients only, and gorilla-xmlrpc's server codec is unmaintained and
// maps calls onto reflected Go methods. None reproduces what matters
// here: Supervisor reads a call with its own loose rules (an untyped
// <value> is a string, <boolean> is true only for "1", unknown types
// keep their text, a struct member needs exactly a name and a value, any
// malformation is HTTP 400), and supervisorctl expects the bytes that
// Python's xmlrpc.client.dumps writes. Both fit in a few hundred lines.

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The Go types of XML-RPC values, both ways:
//
//	<int>, <i4>                  int
//	<boolean>                    bool
//	<string>, untyped <value>    string
//	<double>                     float64
//	<dateTime.iso8601>           time.Time (no zone; UTC on the way in)
//	<base64>                     []byte (the server decodes it to string, as Supervisor does)
//	<array>                      []any
//	<struct>                     Struct (ordered) or map[string]any out, map[string]any in
//	<nil/>                       nil (decoded by the client; Supervisor never sends it)
//
// Encoding also takes int64, []string, []int and []Struct.

// Struct is an XML-RPC struct whose members keep their order, as Python
// dicts do; Supervisor's responses depend on it.
type Struct []Member

// Member is one name and value of a Struct.
type Member struct {
	Name  string
	Value any
}

// Get returns the value of the member called name.
func (s Struct) Get(name string) (any, bool) {
	for _, m := range s {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// ErrMalformed is a request or response body that is not XML-RPC.
var ErrMalformed = errors.New("malformed XML-RPC body")

const (
	xmlHeader = "<?xml version='1.0'?>\n"
	maxInt    = math.MaxInt32 // XML-RPC ints are 32-bit
	minInt    = math.MinInt32
)

// encodeResponse writes a methodResponse holding v, byte for byte as
// Python's xmlrpc.client.dumps((v,), methodresponse=True) does.
func encodeResponse(buf *bytes.Buffer, v any) error {
	buf.WriteString(xmlHeader)
	buf.WriteString("<methodResponse>\n<params>\n<param>\n")
	if err := encodeValue(buf, v); err != nil {
		return err
	}
	buf.WriteString("</param>\n</params>\n</methodResponse>\n")
	return nil
}

// encodeFault writes a fault response as xmlrpc.client.dumps(Fault) does.
func encodeFault(buf *bytes.Buffer, f *Fault) {
	buf.WriteString(xmlHeader)
	buf.WriteString("<methodResponse>\n<fault>\n")
	_ = encodeValue(buf, Struct{{"faultCode", f.Code}, {"faultString", f.String}})
	buf.WriteString("</fault>\n</methodResponse>\n")
}

// encodeCall writes a methodCall as xmlrpc.client.dumps(params, name) does.
func encodeCall(buf *bytes.Buffer, method string, params []any) error {
	buf.WriteString(xmlHeader)
	buf.WriteString("<methodCall>\n<methodName>")
	escapeText(buf, method)
	buf.WriteString("</methodName>\n<params>\n")
	for _, p := range params {
		buf.WriteString("<param>\n")
		if err := encodeValue(buf, p); err != nil {
			return err
		}
		buf.WriteString("</param>\n")
	}
	buf.WriteString("</params>\n</methodCall>\n")
	return nil
}

// encodeValue writes one <value> element and its newline, in the layout
// of Python's xmlrpc.client.Marshaller.
func encodeValue(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("<value><nil/></value>")
	case bool:
		if v {
			buf.WriteString("<value><boolean>1</boolean></value>")
		} else {
			buf.WriteString("<value><boolean>0</boolean></value>")
		}
	case int:
		encodeInt(buf, int64(v))
	case int64:
		encodeInt(buf, v)
	case string:
		buf.WriteString("<value><string>")
		escapeText(buf, v)
		buf.WriteString("</string></value>")
	case lazyText:
		encodeLazy(buf, v)
	case float64:
		buf.WriteString("<value><double>")
		buf.WriteString(pythonRepr(v))
		buf.WriteString("</double></value>")
	case time.Time:
		buf.WriteString("<value><dateTime.iso8601>")
		buf.WriteString(v.Format("20060102T15:04:05"))
		buf.WriteString("</dateTime.iso8601></value>")
	case []byte:
		buf.WriteString("<value><base64>\n")
		// base64.encodebytes: lines of 76 characters, each ended by \n
		enc := base64.StdEncoding.EncodeToString(v)
		for len(enc) > 76 {
			buf.WriteString(enc[:76])
			buf.WriteByte('\n')
			enc = enc[76:]
		}
		if enc != "" {
			buf.WriteString(enc)
			buf.WriteByte('\n')
		}
		buf.WriteString("</base64></value>")
	case []any:
		buf.WriteString("<value><array><data>\n")
		for _, e := range v {
			if err := encodeValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteString("</data></array></value>")
	case []string:
		buf.WriteString("<value><array><data>\n")
		for _, e := range v {
			_ = encodeValue(buf, e)
		}
		buf.WriteString("</data></array></value>")
	case []int:
		buf.WriteString("<value><array><data>\n")
		for _, e := range v {
			if err := encodeValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteString("</data></array></value>")
	case []Struct:
		buf.WriteString("<value><array><data>\n")
		for _, e := range v {
			if err := encodeValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteString("</data></array></value>")
	case Struct:
		buf.WriteString("<value><struct>\n")
		for _, m := range v {
			buf.WriteString("<member>\n<name>")
			escapeText(buf, m.Name)
			buf.WriteString("</name>\n")
			if err := encodeValue(buf, m.Value); err != nil {
				return err
			}
			buf.WriteString("</member>\n")
		}
		buf.WriteString("</struct></value>")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s := make(Struct, len(keys))
		for i, k := range keys {
			s[i] = Member{k, v[k]}
		}
		return encodeValue(buf, s)
	default:
		return fmt.Errorf("xmlrpc: cannot encode %T", v)
	}
	buf.WriteByte('\n')
	return nil
}

func encodeInt(buf *bytes.Buffer, i int64) {
	// Python refuses ints outside 32 bits ("int exceeds XML-RPC limits");
	// Supervisor caps its timestamps (capped_int). Refusing here would fail
	// a whole response for one large configured number, so larger values
	// are written as they are: Python's reader takes any size.
	buf.WriteString("<value><int>")
	buf.WriteString(strconv.FormatInt(i, 10))
	buf.WriteString("</int></value>")
}

// escapeText escapes as Python's xmlrpc.client.escape does (&, <, >) and
// also keeps the document well-formed, which Python does not: invalid
// UTF-8 and characters XML 1.0 forbids (ANSI escapes in a log, NUL)
// become U+FFFD. Supervisor sends them raw and supervisorctl then fails
// with "not well-formed (invalid token)" (verified with `tail` of a log
// holding "\x1b[31m"), or, for a log read that splits a UTF-8 sequence,
// with HTTP 500.
func escapeText(buf *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
				esc = "\uFFFD"
			default:
				i++
				continue
			}
			buf.WriteString(s[start:i])
			buf.WriteString(esc)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			size = invalidLen(s[i:])
		} else if r != 0xFFFE && r != 0xFFFF {
			i += size
			continue
		}
		buf.WriteString(s[start:i])
		buf.WriteString("\uFFFD")
		i += size
		start = i
		continue
	}
	buf.WriteString(s[start:])
}

// invalidLen is how many bytes of s, which starts with an invalid UTF-8
// sequence, Python's errors="replace" turns into one U+FFFD: the lead
// byte and the continuation bytes that still fit it (the maximal
// subpart), or just the one byte.
func invalidLen(s string) int {
	c := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(s) && s[n] >= lo && s[n] <= hi {
		n++
		lo, hi = 0x80, 0xBF
	}
	return n
}

// pythonRepr formats f as Python's repr(float) does: the shortest
// round-tripping digits, fixed notation for exponents in [-4, 16) with at
// least one decimal, else d.ddde±XX.
func pythonRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	mant, expPart, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expPart)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		out += fmt.Sprintf("e%s%02d", sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// node is an element of a parsed body, as xml.etree.ElementTree keeps
// it: text is what came before the first child, and val replaces it once
// Supervisor's unmarshaller has converted the element.
type node struct {
	tag      string
	text     *string // nil: no text, as ElementTree's None
	children []*node
	val      any // the converted text; starts as text (string or nil)
}

var entityDecl = regexp.MustCompile(`<!ENTITY\s+([A-Za-z_][-A-Za-z0-9._]*)\s+(?:"([^"<&%]*)"|'([^'<&%]*)')\s*>`)

const (
	maxDepth = 512
	maxNodes = 1 << 20
)

// Entity expansion. Expat, which reads Supervisor's requests, expands the
// internal entities of a DOCTYPE under its protection against "billion
// laughs": once the document has grown to expatThreshold bytes counting
// what references added, what they added may be at most
// expatAmplification times what was read (XML_ERROR_AMPLIFICATION_LIMIT_BREACH;
// supervisord then answers 400). parseTree applies the same rule,
// counted before the decoder expands anything, and bounds the expanded
// document to maxBody as well, which expat does not (a 1 MB request
// adding 70 MB is read by supervisord, refused here).
const (
	expatThreshold     = 8 << 20
	expatAmplification = 100
)

// errExpansion is a body whose entity references would expand past the
// limits above.
var errExpansion = fmt.Errorf("%w: entity references expand too much", ErrMalformed)

// parseTree reads body into a tree of nodes. Namespaced tags keep their
// namespace in the tag ("{uri}local"), so they match no XML-RPC name.
// When the body declares entities, charge (if not nil) is first told how
// many bytes their references will add, and an error from it ends the
// parse with that error.
func parseTree(body []byte, charge func(extra int) error) (*node, error) {
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrMalformed)
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	// Supervisor decodes the body as UTF-8 before parsing, whatever the
	// XML declaration says.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var stack []*node
	var root *node
	count := 0
	directives := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if len(stack) >= maxDepth || count > maxNodes {
				return nil, fmt.Errorf("%w: too deep or too large", ErrMalformed)
			}
			if root != nil && len(stack) == 0 {
				return nil, fmt.Errorf("%w: junk after document element", ErrMalformed)
			}
			n := &node{tag: t.Name.Local}
			if t.Name.Space != "" {
				n.tag = "{" + t.Name.Space + "}" + t.Name.Local
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n.val = nil
			if n.text != nil {
				n.val = *n.text
			}
		case xml.Directive:
			// Expat takes one DOCTYPE, before the document element, and
			// expands its internal entities; so do we, for the simple
			// form <!ENTITY name "text">, once expandedSize has counted
			// what their references add.
			directives++
			if root != nil || directives > 1 {
				return nil, fmt.Errorf("%w: markup declaration out of place", ErrMalformed)
			}
			for _, m := range entityDecl.FindAllSubmatch(t, -1) {
				if d.Entity == nil {
					d.Entity = map[string]string{}
				}
				if _, dup := d.Entity[string(m[1])]; dup {
					continue // the first declaration binds, as in expat
				}
				v := m[2]
				if v == nil {
					v = m[3]
				}
				d.Entity[string(m[1])] = string(v)
			}
			if d.Entity != nil {
				extra, err := expandedSize(body, int(d.InputOffset()), d.Entity)
				if err != nil {
					return nil, err
				}
				if charge != nil && extra > 0 {
					if err := charge(extra); err != nil {
						return nil, err
					}
				}
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, fmt.Errorf("%w: text outside the document element", ErrMalformed)
				}
				continue
			}
			n := stack[len(stack)-1]
			if len(n.children) == 0 { // text before the first child; later text is a tail
				s := string(t)
				if n.text != nil {
					s = *n.text + s
				}
				n.text = &s
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no element", ErrMalformed)
	}
	return root, nil
}

// expandedSize returns how many bytes the references to ents in
// body[from:] add when they are expanded, or errExpansion when that
// passes expat's limit, checked at each reference as expat checks it, or
// makes the document larger than maxBody. References inside comments,
// CDATA sections and processing instructions, which are not expanded,
// are not counted. Entity values hold no references (entityDecl), so
// nothing expands twice.
func expandedSize(body []byte, from int, ents map[string]string) (int, error) {
	extra := 0
	for i := from; i < len(body); {
		j := bytes.IndexAny(body[i:], "&<")
		if j < 0 {
			break
		}
		i += j
		if body[i] == '<' {
			end := ""
			switch {
			case bytes.HasPrefix(body[i:], []byte("<!--")):
				end = "-->"
			case bytes.HasPrefix(body[i:], []byte("<![CDATA[")):
				end = "]]>"
			case bytes.HasPrefix(body[i:], []byte("<?")):
				end = "?>"
			default:
				i++
				continue
			}
			k := bytes.Index(body[i:], []byte(end))
			if k < 0 {
				break
			}
			i += k + len(end)
			continue
		}
		k := bytes.IndexByte(body[i:], ';')
		if k < 0 {
			break
		}
		v, ok := ents[string(body[i+1:i+k])]
		i += k + 1
		if !ok {
			continue
		}
		extra += len(v)
		total := i + extra // what expat has seen: read (direct) and added (indirect)
		if total >= expatThreshold && total > expatAmplification*i || len(body)+extra > maxBody {
			return 0, errExpansion
		}
	}
	return extra, nil
}

// parseCall reads a methodCall the way Supervisor's
// supervisor_xmlrpc_handler.loads does: every element is converted when
// it ends, innermost first; the last <methodName> names the method and
// the last <params> gives the parameters (nil when there is none). An
// error wrapping ErrMalformed means Supervisor would answer HTTP 400;
// charge is parseTree's, and its errors come back as they are.
func parseCall(body []byte, charge func(extra int) error) (method string, params []any, hasMethod bool, err error) {
	root, err := parseTree(body, charge)
	if err != nil {
		return "", nil, false, err
	}
	var walk func(n *node) error
	walk = func(n *node) error {
		for _, c := range n.children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return unmarshalNode(n, &method, &hasMethod, &params)
	}
	if err := walk(root); err != nil {
		return "", nil, false, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return method, params, hasMethod, nil
}

func unmarshalNode(n *node, method *string, hasMethod *bool, params *[]any) error {
	text := func() (string, bool) {
		s, ok := n.val.(string)
		return s, ok
	}
	first := func() (any, error) {
		if len(n.children) == 0 {
			return nil, errors.New("<" + n.tag + "> without a child")
		}
		return n.children[0].val, nil
	}
	switch n.tag {
	case "int", "i4":
		s, ok := text()
		if !ok {
			return errors.New("empty <" + n.tag + ">")
		}
		i, err := pythonInt(s)
		if err != nil {
			return err
		}
		n.val = i
	case "boolean":
		s, _ := text()
		n.val = s == "1"
	case "string":
		s, _ := text()
		n.val = s
	case "double":
		s, ok := text()
		if !ok {
			return errors.New("empty <double>")
		}
		f, err := pythonFloat(s)
		if err != nil {
			return err
		}
		n.val = f
	case "dateTime.iso8601":
		s, ok := text()
		if !ok {
			return errors.New("empty <dateTime.iso8601>")
		}
		t, err := time.Parse("20060102T15:04:05", s)
		if err != nil {
			return err
		}
		n.val = t
	case "array":
		v, err := first()
		if err != nil {
			return err
		}
		n.val = v
	case "data":
		vals := make([]any, len(n.children))
		for i, c := range n.children {
			vals[i] = c.val
		}
		n.val = vals
	case "struct":
		m := make(map[string]any, len(n.children))
		for _, c := range n.children {
			if len(c.children) != 2 {
				return errors.New("struct member without exactly a name and a value")
			}
			k, _ := c.children[0].val.(string)
			if c.children[0].val != nil {
				if _, ok := c.children[0].val.(string); !ok {
					return errors.New("struct member name is not text")
				}
			}
			m[k] = c.children[1].val
		}
		n.val = m
	case "base64":
		s, _ := text()
		b, err := pythonBase64(s)
		if err != nil {
			return err
		}
		if !utf8.Valid(b) {
			return errors.New("base64 value is not UTF-8")
		}
		n.val = string(b)
	case "param":
		v, err := first()
		if err != nil {
			return err
		}
		n.val = v
	case "value":
		if len(n.children) > 0 {
			n.val = n.children[0].val
		} else if n.val == nil {
			n.val = ""
		}
	case "methodName":
		s, _ := text()
		*method = s
		*hasMethod = s != ""
	case "params":
		ps := make([]any, len(n.children))
		for i, c := range n.children {
			ps[i] = c.val
		}
		*params = ps
	}
	return nil
}

// pythonInt parses s as Python's int(s) does for the ASCII cases:
// surrounding whitespace, a sign, digits with single underscores between
// them. Values beyond 64 bits are refused.
func pythonInt(s string) (int64, error) {
	t := strings.TrimSpace(s)
	clean, ok := pythonDigits(t)
	if !ok {
		return 0, fmt.Errorf("invalid literal for int(): %q", s)
	}
	return strconv.ParseInt(clean, 10, 64)
}

// pythonDigits removes the underscores Python allows between digits.
func pythonDigits(t string) (string, bool) {
	body := t
	sign := ""
	if body != "" && (body[0] == '+' || body[0] == '-') {
		sign, body = body[:1], body[1:]
	}
	if body == "" || body[0] == '_' || body[len(body)-1] == '_' || strings.Contains(body, "__") {
		return "", false
	}
	clean := strings.ReplaceAll(body, "_", "")
	for _, c := range clean {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return sign + clean, true
}

// pythonFloat parses s as Python's float(s) does for the common forms.
func pythonFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "_") {
		if strings.Contains(t, "__") || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") {
			return 0, fmt.Errorf("could not convert string to float: %q", s)
		}
		t = strings.ReplaceAll(t, "_", "")
	}
	if strings.HasPrefix(strings.TrimLeft(t, "+-"), "0x") || strings.HasPrefix(strings.TrimLeft(t, "+-"), "0X") {
		return 0, fmt.Errorf("could not convert string to float: %q", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("could not convert string to float: %q", s)
	}
	return f, nil
}

// pythonBase64 decodes as base64.decodebytes does: characters outside the
// alphabet are skipped, decoding stops at the padding, and a final group
// that is short of its padding is an error ("Incorrect padding").
func pythonBase64(s string) ([]byte, error) {
	data := make([]byte, 0, len(s))
	pads := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			pads++
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/':
			if pads > 0 {
				i = len(s) // data after the padding is ignored
				continue
			}
			data = append(data, c)
		}
	}
	switch r := len(data) % 4; {
	case r == 1, r > 1 && pads < 4-r:
		return nil, errors.New("incorrect base64 padding")
	}
	return base64.RawStdEncoding.DecodeString(string(data))
}

// parseResponse reads a methodResponse as Python's xmlrpc.client does:
// the value of its one param, or the fault as a *Fault error.
func parseResponse(body []byte) (any, error) {
	if v, err := fastResponse(body); !errors.Is(err, errSlowPath) {
		return v, err
	}
	root, err := parseTree(body, nil)
	if err != nil {
		return nil, err
	}
	if root.tag != "methodResponse" {
		return nil, fmt.Errorf("%w: <%s> is not a methodResponse", ErrMalformed, root.tag)
	}
	for _, c := range root.children {
		switch c.tag {
		case "fault":
			v, err := clientValue(firstChild(c, "value"))
			if err != nil {
				return nil, err
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: fault is not a struct", ErrMalformed)
			}
			code, _ := m["faultCode"].(int)
			str, _ := m["faultString"].(string)
			return nil, &Fault{Code: code, String: str}
		case "params":
			p := firstChild(c, "param")
			if p == nil {
				return nil, fmt.Errorf("%w: response without a param", ErrMalformed)
			}
			return clientValue(firstChild(p, "value"))
		}
	}
	return nil, fmt.Errorf("%w: response without params or fault", ErrMalformed)
}

func firstChild(n *node, tag string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.tag == tag {
			return c
		}
	}
	return nil
}

// localName strips a namespace prefix, as xmlrpc.client's Unmarshaller
// does for tags such as ex:nil.
func localName(tag string) string {
	if i := strings.LastIndexByte(tag, '}'); i >= 0 {
		return tag[i+1:]
	}
	return tag
}

// clientValue converts a <value> node as Python's xmlrpc.client does.
func clientValue(v *node) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: missing <value>", ErrMalformed)
	}
	var typed *node
	for _, c := range v.children {
		typed = c
		break
	}
	if typed == nil {
		if v.text == nil {
			return "", nil
		}
		return *v.text, nil
	}
	text := ""
	if typed.text != nil {
		text = *typed.text
	}
	switch tag := localName(typed.tag); tag {
	case "nil":
		return nil, nil
	case "boolean", "int", "i1", "i2", "i4", "i8", "biginteger", "double", "float", "bigdecimal",
		"string", "dateTime.iso8601", "base64":
		return scalar(tag, text)
	case "array":
		data := firstChild(typed, "data")
		out := []any{}
		if data == nil {
			return out, nil
		}
		for _, c := range data.children {
			if localName(c.tag) != "value" {
				continue
			}
			e, err := clientValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case "struct":
		m := map[string]any{}
		for _, mem := range typed.children {
			name := firstChild(mem, "name")
			val := firstChild(mem, "value")
			if name == nil || val == nil {
				return nil, fmt.Errorf("%w: struct member without a name or value", ErrMalformed)
			}
			e, err := clientValue(val)
			if err != nil {
				return nil, err
			}
			k := ""
			if name.text != nil {
				k = *name.text
			}
			m[k] = e
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: unknown type <%s>", ErrMalformed, typed.tag)
}
