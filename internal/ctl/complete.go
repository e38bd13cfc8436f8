package ctl

import "context"

// Complete returns what supervisorctl's shell offers on Tab for text,
// the word being typed, at the end of line (the action line up to and
// including text), with the processes given as [group, name] pairs
// instead of asking a server: shell completion of `supersede ctl ...`
// (bash, zsh, fish) offers exactly what the supervisor> prompt would.
// Each candidate ends with a space, as readline's do.
func Complete(line, text string, procs [][2]string) []string {
	info := make([]map[string]any, 0, len(procs))
	for _, p := range procs {
		info = append(info, map[string]any{"group": p[0], "name": p[1]})
	}
	c := &controller{completeInfo: info}
	return c.complete(context.Background(), text, line)
}
