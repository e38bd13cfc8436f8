//go:build mangen

package clidoc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// WriteMan writes the man pages of p into dir, section 1: PROG.1 and
// PROG-NAME.1 for each command that is not hidden. date is the date in
// their footers; if it is zero, $SOURCE_DATE_EPOCH or today.
func WriteMan(p *Program, dir string, date time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := p.tree()
	header := &doc.GenManHeader{
		Section: "1",
		Source:  strings.TrimSpace(p.Name + " " + p.Version),
		Manual:  p.Name + " manual",
	}
	if !date.IsZero() {
		header.Date = &date
	}
	var errs []error
	var write func(c *cobra.Command)
	write = func(c *cobra.Command) {
		if c != root && (!c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand()) {
			return
		}
		for _, sub := range c.Commands() {
			write(sub)
		}
		h := *header
		h.Title = strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-"))
		var b strings.Builder
		if err := doc.GenMan(c, &h, &b); err != nil {
			errs = append(errs, err)
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		if err := writeFile(filepath.Join(dir, name), b.String()); err != nil {
			errs = append(errs, err)
		}
	}
	write(root)
	return errors.Join(errs...)
}

// writeFile writes path atomically (renameio: a temporary file, fsync,
// rename), so a man page is never seen half-written.
func writeFile(path, content string) error {
	return renameio.WriteFile(path, []byte(content), 0o644, renameio.WithStaticPermissions(0o644))
}
