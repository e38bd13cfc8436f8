package logfile

import (
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// pyDebug is POutputDispatcher._log's main-log message.
const pyDebug = `
import sys, json, base64
out = []
for c in json.load(sys.stdin):
    data = base64.b64decode(c['data'] or '')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        text = 'Undecodable: %r' % data
    out.append('%(name)r %(channel)s output:\n%(data)s' % {'name': c['name'], 'channel': c['channel'], 'data': text})
json.dump(out, sys.stdout)
`

func TestDebugMessageMatchesSupervisor(t *testing.T) {
	testreal.RequirePython(t)
	type dc struct {
		Name    string `json:"name"`
		Channel string `json:"channel"`
		Data    []byte `json:"data"`
	}
	cases := []dc{
		{"web", "stdout", []byte("hello\n")},
		{"it's", "stderr", []byte("caf\xc3\xa9")},
		{`q"'`, "stdout", []byte("\xff\x00'\"\\\t\r\n\x7f ok")},
		{"tab\there\u00e9\u2028\x01", "stdout", []byte("x'y")},
		{"emoji\U0001F600\U000E0001", "stdout", nil},
		{"a\\b", "stdout", []byte("\xc3")},
	}
	var want []string
	testreal.RunPython(t, pyDebug, cases, &want)
	for i, c := range cases {
		if got := DebugMessage(c.Name, c.Channel, c.Data); got != want[i] {
			t.Errorf("DebugMessage(%q, %q) = %q, Supervisor %q", c.Name, c.Data, got, want[i])
		}
	}
}
