package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/xmlrpc"
)

// tailf is DefaultControllerPlugin._tailf: stream path until the server
// ends the stream or Ctrl-C (ctx done), which prints an empty line and
// ends the command normally.
func (c *controller) tailf(ctx context.Context, path string) error {
	c.output("==> Press Ctrl-C to exit <==")
	c.follow(ctx, path)
	if ctx.Err() != nil {
		c.intrCaught = true
		c.output("")
	}
	return nil
}

// follow copies the stream at path to stdout as http_client's Listener
// does, and reports a failure on stderr as "URL message", as its
// error() does. It returns when the stream ends or ctx is done.
func (c *controller) follow(ctx context.Context, path string) {
	c.flush() // the "==> Press Ctrl-C to exit <==" line shows at once
	url := c.conn.ServerURL() + path
	rc, err := c.conn.Tail(ctx, path)
	if err != nil {
		if ctx.Err() == nil {
			c.errorf("%s %s\n", url, listenerError(err))
		}
		return
	}
	defer rc.Close()
	buf := make([]byte, 32*1024)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			c.write(buf[:n])
		}
		if err != nil {
			if err != io.EOF && ctx.Err() == nil {
				c.errorf("%s %s\n", url, listenerError(err))
			}
			return
		}
	}
}

// listenerError is what supervisor's HTTPHandler tells its listener.
func listenerError(err error) string {
	var he *xmlrpc.HTTPError
	if errors.As(err, &he) {
		return fmt.Sprintf("Cannot read, status code %d", he.StatusCode)
	}
	class, value, _, _ := pyException(err, "")
	if class == "" {
		return "Cannot connect, error: " + oneLine(err.Error())
	}
	return fmt.Sprintf("Cannot connect, error: <class '%s'> (%s)", class, value)
}

func doFg(c *controller, ctx context.Context, arg string) error {
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	names := pySplit(arg)
	if len(names) == 0 {
		c.output("ERROR: no process name supplied")
		c.exitStatus = exitGeneric
		helpFg(c)
		return nil
	}
	if len(names) > 1 {
		c.output("ERROR: too many process names supplied")
		c.exitStatus = exitGeneric
		return nil
	}
	name := names[0]
	running, err := c.processRunning(ctx, name)
	if err != nil {
		var f *xmlrpc.Fault
		if errors.As(err, &f) {
			if f.Code == xmlrpc.FaultBadName {
				c.output("ERROR: bad process name supplied")
				c.exitStatus = exitGeneric
			} else {
				c.output("ERROR: " + faultStr(f))
			}
			return nil
		}
		return err
	}
	if !running {
		c.output("ERROR: process not running")
		c.exitStatus = exitGeneric
		return nil
	}
	c.output("==> Press Ctrl-C to exit <==")
	tctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, ch := range []string{"stdout", "stderr"} {
		wg.Go(func() { c.follow(tctx, "/logtail/"+name+"/"+ch) })
	}
	defer wg.Wait()
	defer stop()
	exit := func(msgs ...string) error {
		c.intrCaught = ctx.Err() != nil
		for _, m := range msgs {
			c.output(m)
		}
		c.output("Exiting foreground")
		return nil
	}
	for {
		line, err := c.in.readLine(ctx, "")
		if err != nil {
			if err == io.EOF || err == errInterrupted {
				return exit()
			}
			return err
		}
		if _, err := c.call(ctx, "supervisor.sendProcessStdin", name, line+"\n"); err != nil {
			var f *xmlrpc.Fault
			switch {
			case err == errInterrupted:
				return exit()
			case errors.As(err, &f) && f.Code == xmlrpc.FaultNotRunning:
				return exit("Process got killed")
			case errors.As(err, &f):
				return exit("ERROR: " + faultStr(f))
			}
			return err
		}
		running, err := c.processRunning(ctx, name)
		if err == errInterrupted {
			return exit()
		}
		if err != nil {
			return err
		}
		if !running {
			return exit("Process got killed")
		}
	}
}

// processRunning asks getProcessInfo whether name is RUNNING.
func (c *controller) processRunning(ctx context.Context, name string) (bool, error) {
	v, err := c.call(ctx, "supervisor.getProcessInfo", name)
	if err != nil {
		return false, err
	}
	in, err := structOf(v, "getProcessInfo", "state")
	if err != nil {
		return false, err
	}
	code, _ := in["state"].(int)
	s, ok := xmlrpc.StateFromCode(code)
	return ok && s == status.Running, nil
}

// faultStr is str() of an xmlrpc.client.Fault.
func faultStr(f *xmlrpc.Fault) string { return fmt.Sprintf("<Fault %d: %s>", f.Code, pyRepr(f.String)) }

func helpFg(c *controller) {
	c.output("fg <process>\tConnect to a process in foreground mode")
	c.output("\t\tCtrl-C to exit")
}
