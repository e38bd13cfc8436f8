package main

import (
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// benchGroups is the benchmark's host: 4 groups of 5 processes, each
// group of one priority, startsecs=1.
func benchGroups() string {
	var b strings.Builder
	for i, name := range []string{"api", "web", "jobs", "mail"} {
		fmt.Fprintf(&b, `[program:%s]
command=/bin/sleep %d
process_name=%%(program_name)s_%%(process_num)d
numprocs=5
priority=%d
startsecs=1
stopwaitsecs=2

`, name, 1100+i, 100*(i+1))
	}
	return b.String()
}

func monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// BenchmarkMigrateDowntime measures each program's downtime (from the
// request that stops it under supervisord to its new process under
// systemd) on 20 programs in 4 groups, side by side: supersede migrate,
// and the cut-over by hand it replaces (supervisorctl shutdown, then
// convert, daemon-reload and systemctl start supersede.target). Run with
// go test -run '^$' -bench MigrateDowntime -benchtime 1x ./cmd/supersede
// (root; figures in docs/PERFORMANCE.md).
func BenchmarkMigrateDowntime(b *testing.B) {
	var migrated, byHand []float64
	for b.Loop() {
		migrated = append(migrated, benchMigrate(b)...)
		byHand = append(byHand, benchByHand(b)...)
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	b.ReportMetric(mean(migrated), "migrate-down-mean-s")
	b.ReportMetric(slices.Max(migrated), "migrate-down-max-s")
	b.ReportMetric(mean(byHand), "byhand-down-mean-s")
	b.ReportMetric(slices.Max(byHand), "byhand-down-max-s")
	b.ReportMetric(mean(byHand)/mean(migrated), "byhand/migrate-mean")
}

// benchMigrate migrates a fresh host and returns each program's printed
// downtime in seconds.
func benchMigrate(b *testing.B) []float64 {
	h := newMigHost(b, benchGroups())
	r := h.migrate(nil)
	if r.code != 0 {
		b.Fatalf("migrate:\n%s", r)
	}
	var downs []float64
	for _, m := range downRE.FindAllStringSubmatch(r.stdout, -1) {
		d, _ := strconv.ParseFloat(m[2], 64)
		downs = append(downs, d)
	}
	if len(downs) != 20 {
		b.Fatalf("migrate printed %d downtimes, want 20:\n%s", len(downs), r)
	}
	return downs
}

// benchByHand cuts a fresh host over by hand and returns each program's
// downtime: from the shutdown request to its process's start under
// systemd (the unit's ExecMainStartTimestampMonotonic).
func benchByHand(b *testing.B) []float64 {
	h := newMigHost(b, benchGroups())
	start := monotonic()
	if r := h.supervisorctl("shutdown"); r.code != 0 {
		b.Fatalf("%s", r)
	}
	if !h.waitUntil(time.Minute, func() bool { return !isSupervisord(h.firstSupervisord) }) {
		b.Fatal("supervisord did not exit")
	}
	if out, err := exec.Command(h.exe, "convert", "--user", "-c", h.conf, "-o", h.sm.UnitDir).CombinedOutput(); err != nil {
		b.Fatalf("convert: %v\n%s", err, out)
	}
	h.sm.DaemonReload()
	h.sm.Systemctl("start", "supersede.target")
	var downs []float64
	for _, g := range []string{"api", "web", "jobs", "mail"} {
		for i := range 5 {
			unit := fmt.Sprintf("%s@%s_%d.service", g, g, i)
			props := h.sm.WaitUntil(unit, time.Minute, func(p map[string]string) bool {
				return p["ActiveState"] == "active" && p["ExecMainStartTimestampMonotonic"] != "0"
			}, "ActiveState", "ExecMainStartTimestampMonotonic")
			us, err := strconv.ParseInt(props["ExecMainStartTimestampMonotonic"], 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			downs = append(downs, (time.Duration(us)*time.Microsecond - start).Seconds())
		}
	}
	return downs
}
