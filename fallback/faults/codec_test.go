package faults

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A small XML-RPC codec of the suite's own. The suite must not share the
// daemon's codec (internal/xmlrpc), whose faults it looks for, and a
// library client (kolo/xmlrpc and the like) cannot send the hostile and
// wrongly typed requests the suite is made of; what it needs is the
// encoding of a call and the decoding of an answer, about 150 lines.

// dateTime is an XML-RPC dateTime.iso8601 value.
type dateTime time.Time

// encodeCall is the methodCall of method with params: int, bool,
// float64, string, []byte (base64), dateTime, []any and map[string]any.
func encodeCall(method string, params ...any) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><methodCall><methodName>`)
	xml.EscapeText(&b, []byte(method))
	b.WriteString(`</methodName><params>`)
	for _, p := range params {
		b.WriteString(`<param>`)
		encodeValue(&b, p)
		b.WriteString(`</param>`)
	}
	b.WriteString(`</params></methodCall>`)
	return []byte(b.String())
}

func encodeValue(b *strings.Builder, v any) {
	b.WriteString("<value>")
	switch v := v.(type) {
	case int:
		fmt.Fprintf(b, "<int>%d</int>", v)
	case bool:
		if v {
			b.WriteString("<boolean>1</boolean>")
		} else {
			b.WriteString("<boolean>0</boolean>")
		}
	case float64:
		fmt.Fprintf(b, "<double>%s</double>", strconv.FormatFloat(v, 'f', -1, 64))
	case string:
		b.WriteString("<string>")
		xml.EscapeText(b, []byte(v))
		b.WriteString("</string>")
	case []byte:
		fmt.Fprintf(b, "<base64>%s</base64>", base64.StdEncoding.EncodeToString(v))
	case dateTime:
		fmt.Fprintf(b, "<dateTime.iso8601>%s</dateTime.iso8601>", time.Time(v).Format("20060102T15:04:05"))
	case []any:
		b.WriteString("<array><data>")
		for _, e := range v {
			encodeValue(b, e)
		}
		b.WriteString("</data></array>")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("<struct>")
		for _, k := range keys {
			b.WriteString("<member><name>")
			xml.EscapeText(b, []byte(k))
			b.WriteString("</name>")
			encodeValue(b, v[k])
			b.WriteString("</member>")
		}
		b.WriteString("</struct>")
	default:
		panic(fmt.Sprintf("encodeValue: %T", v))
	}
	b.WriteString("</value>")
}

// decodeResponse decodes a methodResponse: its value, or a *fault.
func decodeResponse(data []byte) (any, error) {
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	var stack []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("bad answer %.200q: %w", data, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		stack = append(stack, se.Name.Local)
		if se.Name.Local != "value" {
			continue
		}
		v, err := decodeValue(dec)
		if err != nil {
			return nil, fmt.Errorf("bad answer %.200q: %w", data, err)
		}
		if len(stack) >= 2 && stack[len(stack)-2] == "fault" {
			m, _ := v.(map[string]any)
			code, _ := m["faultCode"].(int)
			s, _ := m["faultString"].(string)
			return nil, &fault{Code: code, String: s}
		}
		return v, nil
	}
}

// decodeValue decodes the inside of a <value> whose start was read, up
// to and with its end.
func decodeValue(dec *xml.Decoder) (any, error) {
	var text strings.Builder
	var v any
	typed := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.CharData:
			text.Write(tok)
		case xml.StartElement:
			typed = true
			if v, err = decodeTyped(dec, tok.Name.Local); err != nil {
				return nil, err
			}
		case xml.EndElement:
			if !typed {
				return text.String(), nil // a bare value is a string
			}
			return v, nil
		}
	}
}

func decodeTyped(dec *xml.Decoder, kind string) (any, error) {
	switch kind {
	case "array":
		var out []any
		for {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				if tok.Name.Local == "value" {
					e, err := decodeValue(dec)
					if err != nil {
						return nil, err
					}
					out = append(out, e)
				}
			case xml.EndElement:
				if tok.Name.Local == "array" {
					return out, nil
				}
			}
		}
	case "struct":
		out := map[string]any{}
		name := ""
		for {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				switch tok.Name.Local {
				case "name":
					var s string
					if err := dec.DecodeElement(&s, &tok); err != nil {
						return nil, err
					}
					name = s
				case "value":
					e, err := decodeValue(dec)
					if err != nil {
						return nil, err
					}
					out[name] = e
				}
			case xml.EndElement:
				if tok.Name.Local == "struct" {
					return out, nil
				}
			}
		}
	}
	var s string
	start := xml.StartElement{Name: xml.Name{Local: kind}}
	if err := dec.DecodeElement(&s, &start); err != nil {
		return nil, err
	}
	switch kind {
	case "int", "i4", "i8":
		return strconv.Atoi(strings.TrimSpace(s))
	case "boolean":
		return strings.TrimSpace(s) == "1", nil
	case "double":
		return strconv.ParseFloat(strings.TrimSpace(s), 64)
	case "string", "dateTime.iso8601":
		return s, nil
	case "base64":
		return base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	case "nil":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown XML-RPC type <%s>", kind)
}

// TestCodec checks the suite's codec on Supervisor's own encodings.
func TestCodec(t *testing.T) {
	v, err := decodeResponse([]byte(`<?xml version='1.0'?>
<methodResponse><params><param><value><array><data>
<value><struct><member><name>name</name><value><string>a&amp;b</string></value></member>
<member><name>pid</name><value><int>12</int></value></member>
<member><name>ok</name><value><boolean>1</boolean></value></member>
<member><name>bare</name><value>text</value></member></struct></value>
</data></array></value></param></params></methodResponse>`))
	if err != nil {
		t.Fatal(err)
	}
	want := `[map[bare:text name:a&b ok:true pid:12]]`
	if got := fmt.Sprint(v); got != want {
		t.Errorf("decoded %s, want %s", got, want)
	}
	_, err = decodeResponse([]byte(`<?xml version='1.0'?><methodResponse><fault><value><struct>
<member><name>faultCode</name><value><int>10</int></value></member>
<member><name>faultString</name><value><string>BAD_NAME: x</string></value></member>
</struct></value></fault></methodResponse>`))
	var f *fault
	if !errors.As(err, &f) || f.Code != 10 || f.String != "BAD_NAME: x" {
		t.Errorf("fault decoded as %v", err)
	}
	if _, err := decodeResponse([]byte(`<methodResponse><params>`)); err == nil {
		t.Errorf("truncated answer: %v", err)
	}
	call := string(encodeCall("m", 1, true, 1.5, "<x>", []byte("y"), []any{1}, map[string]any{"k": "v"}))
	for _, want := range []string{"<int>1</int>", "<boolean>1</boolean>", "<double>1.5</double>", "<string>&lt;x&gt;</string>", "<base64>eQ==</base64>", "<array><data><value><int>1</int></value></data></array>", "<member><name>k</name><value><string>v</string></value></member>"} {
		if !strings.Contains(call, want) {
			t.Errorf("encoded call %s lacks %s", call, want)
		}
	}
}
