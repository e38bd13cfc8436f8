package serve

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/supersede/supersede/translate"
)

func TestMatchServer(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	servers := []translate.Server{
		{Section: "unix_http_server", Unix: true, File: sock},
		{Section: "inet_http_server", Host: "127.0.0.1", Port: 9001},
		{Section: "inet_http_server:all", Port: 9002},
	}
	for _, c := range []struct {
		addr net.Addr
		want int
	}{
		{&net.UnixAddr{Name: sock, Net: "unix"}, 0},
		{&net.UnixAddr{Name: sock + "x", Net: "unix"}, -1},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9001}, 1},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9001}, -1},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9002}, 2},
		{&net.TCPAddr{IP: net.IPv6zero, Port: 9002}, 2},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9003}, -1},
	} {
		if got := matchServer(servers, c.addr); got != c.want {
			t.Errorf("matchServer(%v) = %d, want %d", c.addr, got, c.want)
		}
	}
}

// Without socket activation every section is left to the caller to open.
func TestActivatedWithoutSystemd(t *testing.T) {
	t.Setenv("LISTEN_PID", "")
	t.Setenv("LISTEN_FDS", "")
	cfg := &translate.Config{File: "x.conf", Servers: []translate.Server{{Section: "unix_http_server", Unix: true, File: "/x"}}}
	lns, missing, err := Activated(cfg, "")
	if err != nil || len(lns) != 0 || len(missing) != 1 {
		t.Errorf("Activated = %v, %v, %v; want nothing inherited, one missing", lns, missing, err)
	}
}
