package daemon

import (
	"io"
	"log/slog"
	"strings"

	"github.com/supersede/supersede/fallback/logfile"
	"github.com/supersede/supersede/translate"
)

// OpenMainLog opens supervisord's main log as its make_logger does:
// logfile= (rotated at logfile_maxbytes=, keeping logfile_backups=) or
// syslog, at loglevel=, and a copy on standard output with nodaemon=
// unless silent=.
func OpenMainLog(sv *translate.Supervisord) (*logfile.MainLog, error) {
	level, _ := logfile.ParseLevel(sv.LogLevel)
	return logfile.OpenMainLog(logfile.MainLogConfig{
		Path:     sv.Logfile,
		MaxBytes: sv.LogfileMaxBytes,
		Backups:  sv.LogfileBackups,
		Level:    level,
		Stdout:   sv.Nodaemon && !sv.Silent,
	})
}

// JournalLogger is the log of a daemon that systemd runs: lines on w
// (its stderr, which systemd sends to the journal), without a time when
// JOURNAL_STREAM in environ says the journal adds its own, and with
// supervisord's CRIT for the levels above ERROR (Listen's warnings).
func JournalLogger(w io.Writer, environ []string) *slog.Logger {
	underJournal := false
	for _, kv := range environ {
		underJournal = underJournal || strings.HasPrefix(kv, "JOURNAL_STREAM=")
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if underJournal && len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			if l, ok := a.Value.Any().(slog.Level); ok && a.Key == slog.LevelKey && l > slog.LevelError {
				a.Value = slog.StringValue("CRIT")
			}
			return a
		},
	}))
}
