//go:build mangen

package clidoc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

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

// writeFile writes path through a temporary file and a rename.
func writeFile(path, content string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
