package sysd

import (
	"context"
	"os"

	"github.com/supersede/supersede/internal/shim"
)

// StepUnitJob is the type of the job queued for the unit whose
// compatibility step keeps its state in the directory state
// (%t/supersede/%N: the manager, a user manager at %t or the system
// manager when %t is /run, and the unit's name follow from it), "" for
// none: the question of the "exited" step (internal/shim's UnitJob)
// whether its program's end was asked for. One ListUnitsByNames, which
// any user may ask of either manager.
func StepUnitJob(ctx context.Context, state string) (string, error) {
	rt, unit, err := shim.UnitOf(state)
	if err != nil {
		return "", err
	}
	scope, getenv := User, func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return rt
		}
		return ""
	}
	if rt == "/run" {
		scope, getenv = System, os.Getenv
	}
	w, _, err := dial(ctx, scope, getenv)
	if err != nil {
		return "", err
	}
	defer w.Close()
	if dl, ok := ctx.Deadline(); ok {
		w.c.SetDeadline(dl)
	}
	sts, _, err := readStates(w, []string{unit}, "", nil, false)
	if err != nil {
		return "", err
	}
	return sts[0].Job, nil
}
