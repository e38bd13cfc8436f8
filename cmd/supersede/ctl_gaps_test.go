package main

import (
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// transcript records the commands of a session on one world.
type transcript struct {
	t *testing.T
	w *world
	b strings.Builder
}

func (s *transcript) do(args ...string) ctlResult {
	r := s.w.ctl(args...)
	r.stdout = orderFree(args, r.stdout)
	if testing.Verbose() {
		s.t.Logf("%s: %s", s.w.name, r)
	}
	s.b.WriteString(r.String())
	return r
}

// sideBySideConf runs session on the real supervisord and on units on
// systemd, each on its own copy of the configuration sections, and
// compares the transcripts.
func sideBySideConf(t *testing.T, sections string, session func(s *transcript, conf string)) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	sideBySide(t, func(t *testing.T) string {
		dir := shortTempDir(t)
		conf := writeConf(t, dir, sections)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		s := &transcript{t: t, w: w}
		session(s, conf)
		return s.b.String()
	}, func(t *testing.T) string {
		conf := writeConf(t, shortTempDir(t), sections)
		w, _ := systemdWorld(t, conf)
		s := &transcript{t: t, w: w}
		session(s, conf)
		return s.b.String()
	})
}

// Gap 4 of issue 10: a process stopped while it waits to be retried
// (BACKOFF) is STOPPED, not FATAL.
func TestCtlStopBackoffOnSystemd(t *testing.T) {
	sideBySideConf(t, `[program:crash]
command=/bin/sh -c "exit 1"
startsecs=1
startretries=1000
`, func(s *transcript, conf string) {
		s.w.waitState(s.t, "crash", "BACKOFF", 0)
		s.do("stop", "crash")
		s.do("status", "crash")
		s.do("stop", "crash")
	})
}
