//go:build mangen

package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/supersede/supersede/internal/clidoc"
)

// manCommands is `supersede __man DIR`, which make install runs from a
// build with the tag mangen (go run -tags mangen ./cmd/supersede __man
// DIR): the man pages, from the same help texts as help NAME, into DIR.
// The supersede that is installed is built without it (internal/clidoc
// says why).
var manCommands = []command{
	{name: "__man", summary: "write the man pages into DIR (make install)", run: runMan, args: "DIR", hidden: true},
}

func runMan(_ context.Context, e *env) error {
	if len(e.args) != 1 || strings.HasPrefix(e.args[0], "-") {
		return &usageError{err: errors.New("usage: supersede __man DIR")}
	}
	return clidoc.WriteMan(program(e.exe), e.args[0], time.Time{})
}
