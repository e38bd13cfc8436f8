package serve

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/coreos/go-systemd/v22/activation"

	"github.com/supersede/supersede/internal/daemon"
	"github.com/supersede/supersede/translate"
)

// Activated returns the sockets systemd passed to this process
// (LISTEN_FDS, the units `convert` and the generator write:
// <prefix>supersede-serve.socket), each matched to the configuration's
// [unix_http_server] or [inet_http_server] by its path or port; missing
// lists the sections that got no socket, for the caller to open as
// supervisord would. Without socket activation every section is missing.
// A passed socket on the path events (EventsPath; "" for none) is the
// events socket of the listener pools (Listener.Events). A passed socket
// that matches nothing is an error: the socket unit and the
// configuration disagree.
//
// go-systemd's activation package reads LISTEN_PID and LISTEN_FDS and
// unsets them, so that programs serve starts do not inherit them.
func Activated(cfg *translate.Config, events string) (lns []Listener, missing []translate.Server, err error) {
	files := activation.Files(true)
	taken := make([]bool, len(cfg.Servers))
	fail := func(err error) ([]Listener, []translate.Server, error) {
		closeAll(lns)
		for _, f := range files {
			f.Close()
		}
		return nil, nil, err
	}
	for i, f := range files {
		ln, lerr := net.FileListener(f)
		if lerr != nil {
			return fail(fmt.Errorf("socket %d passed by systemd: %w", 3+i, lerr))
		}
		f.Close()
		files[i] = nil
		if a, ok := ln.Addr().(*net.UnixAddr); ok && events != "" && samePath(a.Name, events) {
			lns = append(lns, Listener{Section: "events", Ln: ln, Events: true})
			continue
		}
		j := matchServer(cfg.Servers, ln.Addr())
		if j < 0 || taken[j] {
			ln.Close()
			return fail(fmt.Errorf("systemd passed a socket on %s, which no [unix_http_server] or [inet_http_server] of %s names: the socket unit was written for another configuration (run supersede convert again, or daemon-reload after changing the file)", ln.Addr(), cfg.File))
		}
		taken[j] = true
		lns = append(lns, Listener{Section: cfg.Servers[j].Section, Ln: ln, Auth: daemon.AuthOf(cfg.Servers[j])})
	}
	for i, s := range cfg.Servers {
		if !taken[i] {
			missing = append(missing, s)
		}
	}
	return lns, missing, nil
}

// matchServer is the index of the server section listening on addr, -1
// when none does.
func matchServer(servers []translate.Server, addr net.Addr) int {
	for i, s := range servers {
		switch a := addr.(type) {
		case *net.UnixAddr:
			if s.Unix && samePath(s.File, a.Name) {
				return i
			}
		case *net.TCPAddr:
			if s.Unix || s.Port != a.Port {
				continue
			}
			if s.Host == "" || s.Host == "*" {
				return i
			}
			if ip := net.ParseIP(s.Host); ip != nil && ip.Equal(a.IP) {
				return i
			}
			if s.Host == "localhost" && a.IP.IsLoopback() {
				return i
			}
			if ips, err := net.LookupIP(s.Host); err == nil {
				for _, ip := range ips {
					if ip.Equal(a.IP) {
						return i
					}
				}
			}
		}
	}
	return -1
}

func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// ErrNoServers is a configuration without [unix_http_server] or
// [inet_http_server]: nothing to serve.
var ErrNoServers = errors.New("the configuration has no [unix_http_server] or [inet_http_server] section: nothing to serve (add one, as supervisorctl needs under supervisord)")
