package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/supersede/supersede/translate"
)

// writeSummary prints what Supervisor would understand, for people:
// the daemon's settings, then each group and its processes.
func writeSummary(w io.Writer, cfg *translate.Config, opts translate.Options) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	sd := cfg.Supervisord
	fmt.Fprintf(tw, "config\t%s\n", cfg.File)
	if cfg.Snippet {
		fmt.Fprintf(tw, "\tread as a conf.d snippet included from a minimal main config\n")
	}
	for _, p := range cfg.Placeholders {
		fmt.Fprintf(tw, "placeholder\t%%(ENV_%s)s = %s\n", p.Name, p.Value)
	}
	fmt.Fprintf(tw, "supervisord\tlogfile %s (%s × %d), loglevel %s\n", sd.Logfile, size(sd.LogfileMaxBytes), sd.LogfileBackups, sd.LogLevel)
	fmt.Fprintf(tw, "\tpidfile %s, nodaemon %t, umask %03o, minfds %d, minprocs %d\n", sd.Pidfile, sd.Nodaemon, sd.Umask, sd.MinFDs, sd.MinProcs)
	if sd.User != nil {
		fmt.Fprintf(tw, "\tuser %s\n", *sd.User)
	}
	if len(sd.Environment) > 0 {
		fmt.Fprintf(tw, "\tenvironment %s\n", envString(sd.Environment))
	}
	for _, s := range cfg.Servers {
		if s.Unix {
			fmt.Fprintf(tw, "server\tunix://%s (chmod %03o)%s\n", s.File, s.Chmod, auth(s))
		} else {
			host := s.Host
			if host == "" {
				host = "*"
			}
			fmt.Fprintf(tw, "server\thttp://%s:%d%s\n", host, s.Port, auth(s))
		}
	}
	tw.Flush()
	for _, g := range cfg.Groups {
		fmt.Fprintln(w)
		kind := g.Type.String()
		if strings.HasPrefix(g.Section, "group:") {
			kind = "group"
		}
		fmt.Fprintf(w, "%s %s (priority %d, %s:%d)\n", kind, g.Name, g.Priority, g.Pos.File, g.Pos.Line)
		if g.Socket != nil {
			fmt.Fprintf(w, "  socket %s\n", g.Socket.URL)
		}
		if g.Type == translate.GroupEventListener {
			fmt.Fprintf(w, "  events %s (buffer %d)\n", strings.Join(g.Events, ", "), g.BufferSize)
		}
		if len(g.Processes) == 0 {
			fmt.Fprintln(w, "  no processes")
		}
		for _, p := range g.Processes {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "  %s\n", p.Namespec())
			ex := translate.ResolveExec(p, opts.Environ, opts.Dir)
			fmt.Fprintf(tw, "    command\t%s\n", p.Command)
			if ex.Err != "" {
				fmt.Fprintf(tw, "    exec\tspawn would fail: %s\n", ex.Err)
			} else {
				fmt.Fprintf(tw, "    exec\t%s %q\n", ex.Filename, ex.Argv)
			}
			if p.Dir != nil {
				fmt.Fprintf(tw, "    directory\t%s\n", *p.Dir)
			}
			if p.User != nil {
				fmt.Fprintf(tw, "    user\t%s\n", *p.User)
			}
			if len(p.Env) > 0 {
				fmt.Fprintf(tw, "    environment\t%s\n", envString(p.Env))
			}
			fmt.Fprintf(tw, "    start\tpriority %d, autostart %t, startsecs %s, startretries %d\n",
				p.Priority, p.AutoStart, secs(p.MinUptime), p.StartRetries)
			fmt.Fprintf(tw, "    restart\tautorestart=%s, exitcodes %s\n", p.AutoRestart, ints(p.ExitCodes))
			group := ""
			if p.StopAsGroup {
				group = ", to the process group"
			}
			fmt.Fprintf(tw, "    stop\tSIG%s, then SIGKILL after %s%s\n", translate.SignalName(p.StopSignal), secs(p.StopWait), group)
			fmt.Fprintf(tw, "    stdout\t%s\n", logString(p.Stdout, cfg))
			if p.RedirectStderr {
				fmt.Fprintf(tw, "    stderr\tredirected to stdout\n")
			} else {
				fmt.Fprintf(tw, "    stderr\t%s\n", logString(p.Stderr, cfg))
			}
			fmt.Fprintf(tw, "    defined\t%s\n", p.Pos)
			tw.Flush()
		}
	}
	if len(cfg.Warnings) > 0 || len(cfg.Notices) > 0 {
		fmt.Fprintln(w)
		for _, s := range cfg.Warnings {
			fmt.Fprintf(w, "warning: %s\n", s)
		}
		for _, n := range cfg.Notices {
			fmt.Fprintf(w, "note: %s\n", n)
		}
	}
	return nil
}

func auth(s translate.Server) string {
	if s.Username != nil {
		return ", user " + *s.Username
	}
	return ""
}

func envString(e translate.Env) string {
	parts := make([]string, len(e))
	for i, kv := range e {
		parts[i] = kv.Name + "=" + fmt.Sprintf("%q", kv.Value)
	}
	return strings.Join(parts, " ")
}

func ints(n []int) string {
	if len(n) == 0 {
		return "none"
	}
	parts := make([]string, len(n))
	for i, v := range n {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ",")
}

func secs(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) }

func size(n int64) string {
	switch {
	case n == 0:
		return "no rotation"
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func logString(l translate.Log, cfg *translate.Config) string {
	var s string
	switch l.Kind {
	case translate.LogNone:
		s = "no file"
	case translate.LogAuto:
		s = "AUTO in " + cfg.Supervisord.ChildLogDir
	default:
		s = l.Path
	}
	if l.Kind != translate.LogNone {
		if l.MaxBytes == 0 {
			s += ", no rotation"
		} else {
			s += fmt.Sprintf(", rotated at %s, %d backups", size(l.MaxBytes), l.Backups)
		}
	}
	if l.Syslog {
		s += ", and syslog"
	}
	return s
}
