package sysd

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/supersede/supersede/unitgen"
)

// A Prefetch reads the units of a configuration while the configuration
// is still being parsed: `status` needs the state of every unit, which
// takes systemd about 10 µs of its own time per unit, and the names of
// the units come from the configuration, whose parsing takes about as
// long again (5 ms for 1000 programs). The manager already knows the
// names: every unit convert or the generator wrote for a configuration
// is ordered after its anchor target (Before= of supersede.target). So
// a Prefetch dials the manager, asks the anchor's Before=, and sends the
// batch for those units at once; the manager answers on the other core
// while this one parses. New takes the connection and the states; the
// first snapshot uses them for every unit they cover, and reads the rest
// (a unit the manager has not loaded yet) as usual.
type Prefetch struct {
	done   chan struct{}
	w      *wire
	ep     endpoint
	err    error
	states map[string]unitState
	dir    string
	runs   *runCache
}

// StartPrefetch starts reading the units of the anchor target of opts
// (Scope, Prefix, Getenv) in the background.
func StartPrefetch(ctx context.Context, opts Options) *Prefetch {
	pf := &Prefetch{done: make(chan struct{})}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	go func() {
		defer close(pf.done)
		w, ep, err := dial(ctx, opts.Scope, getenv)
		if err != nil {
			pf.err = err
			return
		}
		pf.w, pf.ep = w, ep
		anchor := unitgen.AnchorTarget(opts.Prefix)
		pf.runs = openRuns(opts.Scope, getenv, anchor)
		if err := pf.read(anchor); err != nil {
			pf.err = err
			pf.w.Close()
			pf.w = nil
		}
	}()
	return pf
}

func (pf *Prefetch) read(anchor string) error {
	w := pf.w
	serial := w.call(destSystemd, string(unitPath(anchor)), "org.freedesktop.DBus.Properties", "Get", "ss", ifaceUnit, "Before")
	if err := w.flush(); err != nil {
		return err
	}
	var units []string
	if _, err := w.replies(1, func(s int, r *reply) error {
		if uint32(s) != serial || r.err() != nil {
			return nil // no anchor: nothing to prefetch
		}
		d := decoder{b: r.body, o: r.order}
		if sig := d.sig(); sig != "as" {
			return fmt.Errorf("%s Before: unexpected type %q", anchor, sig)
		}
		for _, u := range d.strings() {
			if strings.HasSuffix(u, unitgen.Service) {
				units = append(units, u)
			}
		}
		return d.err
	}); err != nil {
		return err
	}
	sts, dir, err := readStates(w, units, anchor, pf.runs, true)
	if err != nil {
		return err
	}
	if pf.runs != nil {
		pf.runs.save() // while the config is still parsed
	}
	pf.states = make(map[string]unitState, len(units))
	for i, u := range units {
		pf.states[u] = sts[i]
	}
	pf.dir = dir
	return nil
}

// Close waits for the prefetch and closes its connection unless New took
// it.
func (pf *Prefetch) Close() {
	<-pf.done
	if pf.w != nil {
		pf.w.Close()
		pf.w = nil
	}
}

// take gives New the prefetch's connection and states (nil after an
// error, when New dials as usual).
func (pf *Prefetch) take() (*wire, endpoint, *prefetched) {
	<-pf.done
	if pf.err != nil || pf.w == nil {
		return nil, endpoint{}, nil
	}
	w := pf.w
	pf.w = nil
	return w, pf.ep, &prefetched{states: pf.states, dir: pf.dir, runs: pf.runs}
}

// prefetched is what a Prefetch read, for the first snapshot.
type prefetched struct {
	states map[string]unitState
	dir    string
	runs   *runCache // the cache of runs it used and updated (runs.go)
}

// lookup returns the states of units and the anchor's directory if the
// prefetch read every one of them.
func (p *prefetched) lookup(units []string) ([]unitState, string, bool) {
	out := make([]unitState, len(units))
	for i, u := range units {
		st, ok := p.states[u]
		if !ok {
			return nil, "", false
		}
		out[i] = st
	}
	return out, p.dir, true
}
