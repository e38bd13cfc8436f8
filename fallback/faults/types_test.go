package faults

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// A value of each XML-RPC type, for the parameters that want another.
var wrongValues = []struct {
	typ string
	val any
}{
	{"int", 7},
	{"boolean", true},
	{"double", 1.5},
	{"string", "x"},
	{"array", []any{1}},
	{"struct", map[string]any{"a": 1}},
	{"base64", []byte("x")},
	{"dateTime.iso8601", dateTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))},
}

// A harmless value of each parameter type: names that do not exist.
var validValues = map[string]any{"string": "nosuch", "int": 0, "boolean": false, "array": []any{}, "struct": map[string]any{}}

// typedCall is one wrongly typed call.
type typedCall struct {
	method string
	params []any
}

func (c typedCall) String() string { return fmt.Sprintf("%s%v", c.method, c.params) }

// outcome classes an answer: "value", "fault N", or the error.
func outcome(v any, err error) string {
	var f *fault
	var he *httpError
	switch {
	case err == nil:
		return "value"
	case errors.As(err, &f):
		return fmt.Sprintf("fault %d", f.Code)
	case errors.As(err, &he):
		return fmt.Sprintf("error: HTTP %d", he.status)
	}
	return "error: " + err.Error()
}

// methods lists the daemon's methods with their signatures
// (system.listMethods and system.methodSignature, which supervisord
// derives from its docstrings: the return type, then the parameters).
func methods(t *testing.T, d *daemon) map[string][]string {
	t.Helper()
	v, err := d.call(answerBound, "system.listMethods")
	if err != nil {
		t.Fatalf("%s: listMethods: %v", d.impl, err)
	}
	names, _ := v.([]any)
	out := map[string][]string{}
	for _, n := range names {
		name, _ := n.(string)
		v, err := d.call(answerBound, "system.methodSignature", name)
		if err != nil {
			t.Fatalf("%s: methodSignature(%s): %v", d.impl, name, err)
		}
		// Supervisor's one signature, flat: ["boolean", "string", ...].
		list, _ := v.([]any)
		var sig []string
		for _, s := range list {
			if s, ok := s.(string); ok {
				sig = append(sig, s)
			}
		}
		if len(sig) == 0 || len(sig) != len(list) {
			t.Fatalf("%s: methodSignature(%s) = %v", d.impl, name, v)
		}
		out[name] = sig
	}
	return out
}

// wrongCalls are, for every method: each parameter in turn given a value
// of every other type (the others harmless), one argument too many, and
// none at all where the first parameter is a required name or offset.
func wrongCalls(sigs map[string][]string) []typedCall {
	var names []string
	for n := range sigs {
		names = append(names, n)
	}
	slices.Sort(names)
	var calls []typedCall
	for _, m := range names {
		params := sigs[m][1:]
		valid := func() []any {
			var out []any
			for _, p := range params {
				out = append(out, validValues[p])
			}
			return out
		}
		for i, p := range params {
			for _, w := range wrongValues {
				if w.typ == p {
					continue
				}
				args := valid()
				args[i] = w.val
				calls = append(calls, typedCall{m, args})
			}
		}
		calls = append(calls, typedCall{m, append(valid(), "extra")})
		// A leading boolean is an optional wait (startAllProcesses()):
		// calling without it is right, not wrong.
		if len(params) > 0 && params[0] != "boolean" {
			calls = append(calls, typedCall{m, nil})
		}
	}
	return calls
}

// TestWrongTypes calls every method the daemon lists with wrongly typed
// arguments, a few hundred calls: each is answered, over HTTP 200, with
// a fault or a value, within the latency bound; the daemon's memory
// stays put. supervisord lists the same methods with the same
// signatures. Where supervisord answers a fault, supersede answers one
// too; where it answers a value, supersede answers a value or
// INCORRECT_PARAMETERS (2): it checks types that supervisord lets
// through. supervisord answers about a hundred of these calls with HTTP
// 500 and a traceback; those are not compared.
func TestWrongTypes(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	fallbacktest.RequireSupersede(t)
	t.Parallel()
	cfg := config{sections: "[program:p]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n"}
	var ss, sd *daemon
	var ssSigs, sdSigs map[string][]string
	var wg sync.WaitGroup
	for _, impl := range []fallbacktest.Impl{fallbacktest.Supersede, fallbacktest.Supervisord} {
		d := newDaemon(t, impl, cfg)
		if impl == fallbacktest.Supersede {
			ss = d
		} else {
			sd = d
		}
		wg.Go(func() {
			if err := d.start(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ssSigs, sdSigs = methods(t, ss), methods(t, sd)
	for m, sig := range sdSigs {
		if got, ok := ssSigs[m]; !ok {
			t.Errorf("supersede does not list %s %v", m, sig)
		} else if !slices.Equal(got, sig) {
			t.Errorf("methodSignature(%s): supersede %v, supervisord %v", m, got, sig)
		}
	}
	for m := range ssSigs {
		if _, ok := sdSigs[m]; !ok {
			t.Errorf("supersede lists %s, supervisord does not", m)
		}
	}

	calls := wrongCalls(ssSigs)
	if len(calls) < 300 {
		t.Fatalf("only %d wrongly typed calls for %d methods", len(calls), len(ssSigs))
	}
	mem := ss.memory()
	got := make([]string, len(calls))
	want := make([]string, len(calls))
	var worst time.Duration
	var slowest typedCall
	wg.Go(func() {
		for i, c := range calls {
			v, took, err := ss.callTimed(answerBound+3*time.Second, c.method, c.params...)
			got[i] = outcome(v, err)
			if took > worst {
				worst, slowest = took, c
			}
		}
	})
	wg.Go(func() {
		for i, c := range calls {
			v, err := sd.call(30*time.Second, c.method, c.params...)
			want[i] = outcome(v, err)
		}
	})
	wg.Wait()
	t.Logf("%d wrongly typed calls; supersede's slowest answer took %v: %v", len(calls), worst.Round(time.Microsecond), slowest)
	latency(t, fallbacktest.Supersede, "the slowest wrongly typed call", worst, answerBound)
	mem.check(t, "wrongly typed calls", 20*mib)

	tally := map[string]int{}
	var bad []string
	for i, c := range calls {
		tally["supervisord "+want[i]+" → supersede "+got[i]]++
		switch {
		case strings.HasPrefix(got[i], "error"):
			bad = append(bad, fmt.Sprintf("%v: %s", c, got[i]))
		case strings.HasPrefix(want[i], "error"): // supervisord's 500: not compared
		case strings.HasPrefix(want[i], "fault") && got[i] == "value":
			bad = append(bad, fmt.Sprintf("%v: supervisord answers %s, supersede a value", c, want[i]))
		case want[i] == "value" && got[i] != "value" && got[i] != "fault 2":
			bad = append(bad, fmt.Sprintf("%v: supervisord answers a value, supersede %s", c, got[i]))
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
	var lines []string
	for k, n := range tally {
		lines = append(lines, fmt.Sprintf("%4d  %s", n, k))
	}
	slices.Sort(lines)
	t.Logf("answers:\n%s", strings.Join(lines, "\n"))
	alive(t, ss, "the wrongly typed calls")
}
