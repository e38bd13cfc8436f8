package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Signals starts delivering the signals a supervisord obeys on the
// returned channel: SIGTERM, SIGINT and SIGQUIT (stop), SIGHUP (restart:
// read the configuration again), SIGUSR2 (reopen the logs). stop ends
// the delivery; until then none of them has its default effect.
func Signals() (sigs chan os.Signal, stop func()) {
	sigs = make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR2, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT)
	return sigs, func() { signal.Stop(sigs) }
}

// StopOnSignal returns a context that is done when ctx is or at the
// first SIGTERM, SIGINT or SIGQUIT, for a daemon that has nothing to
// restart or reopen: SIGHUP and SIGUSR2, which would end a process that
// does not handle them, are logged and otherwise ignored (what says the
// daemon owns neither a configuration to restart nor log files). The
// returned stop releases the signals. The context is cancelled before
// anything is logged, and stop does not wait for the log: a log that
// blocks (a journal that does not read) never holds up the stop.
func StopOnSignal(ctx context.Context, log *slog.Logger, what string) (context.Context, func()) {
	sigs, stopSigs := Signals()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigs:
				switch s {
				case syscall.SIGHUP, syscall.SIGUSR2:
					log.Info(fmt.Sprintf("received %s: ignored (%s)", sigName(s), what))
				default:
					cancel()
					log.Info(fmt.Sprintf("received %s indicating exit request", sigName(s)))
					return
				}
			}
		}
	}()
	return ctx, func() {
		cancel()
		stopSigs()
	}
}

func sigName(s os.Signal) string {
	switch s {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return s.String()
}
