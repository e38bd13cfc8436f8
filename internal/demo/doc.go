// Command demo is `make demo`: the journey of the tutorial "Supervisor
// with Django and Gunicorn" (testdata/examples/tutorial) under systemd,
// on any Linux machine where it runs as root, booted with systemd or not.
//
//	go run ./internal/demo [-supersede bin/supersede] [-port 8000]
//
// It copies the tutorial example into a private directory (its /tmp
// paths moved into that directory, so tear-down leaves nothing behind),
// starts a private systemd user manager with its own journald
// (internal/sdtest.Launch: a private mount namespace and cgroup, nothing
// under the host's /run), and then runs, inside that manager's
// namespace, the commands a user types on a real host, each printed
// before its output:
//
//	supersede convert --user -c supervisord.conf -o ~/.config/systemd/user
//	systemctl --user daemon-reload
//	systemctl --user enable --now supersede.target
//	supersede ctl --user -c supervisord.conf status
//	curl http://127.0.0.1:8000/admin/
//	supersede ctl --user -c supervisord.conf restart gunicorn
//	kill -9 $(supersede ctl --user -c supervisord.conf pid gunicorn)
//	supersede ctl --user -c supervisord.conf status     (a new pid: systemd brought it back)
//	supersede ctl --user -c supervisord.conf tail gunicorn
//	supersede ctl --user -c supervisord.conf shutdown
//	systemctl --user disable supersede.target
//
// then stops the manager and journald and removes the directory. It
// exits 0 when every step did what the tutorial says, 1 otherwise (the
// failing step says what it expected), 2 on a usage error.
//
// It drives supersede from outside, as a user would: it runs the binary
// named by -supersede and imports none of the code under test.
package main
