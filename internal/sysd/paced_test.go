package sysd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	godbus "github.com/godbus/dbus/v5"
)

// pacedPair connects a pacedConn to a unix socket server of its own and
// returns both ends.
func pacedPair(t *testing.T) (*pacedConn, net.Conn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := dialPaced(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); srv.Close() })
	return c, srv
}

// A stream of small messages written one at a time arrives whole and in
// order, and a large write goes out while the other end reads slowly.
func TestPacedConnStream(t *testing.T) {
	t.Parallel()
	c, srv := pacedPair(t)
	var want bytes.Buffer
	for i := range 2000 {
		want.Write([]byte{byte(i), byte(i >> 8), 'x', '\n'})
	}
	go func() {
		for i := range 2000 {
			if _, err := srv.Write(want.Bytes()[4*i : 4*i+4]); err != nil {
				return
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	got := make([]byte, 4*2000)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("the stream arrived changed")
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, more than a socket holds
	read := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(big))
		for n := 0; n < len(b); {
			time.Sleep(100 * time.Microsecond)
			m, err := srv.Read(b[n:min(n+32<<10, len(b))])
			if err != nil {
				break
			}
			n += m
		}
		read <- b
	}()
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if n, err := c.Write(big); err != nil || n != len(big) {
		t.Fatalf("a 1 MiB write: %d, %v", n, err)
	}
	if !bytes.Equal(<-read, big) {
		t.Error("the large write arrived changed")
	}
}

// A read with nothing to read ends at its deadline with a timeout error,
// as net.Conn's does, and Close wakes a read blocked without one.
func TestPacedConnDeadlineAndClose(t *testing.T) {
	t.Parallel()
	c, _ := pacedPair(t)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	begin := time.Now()
	_, err := c.Read(make([]byte, 16))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past its deadline: %v, want a timeout", err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("the read ended %v after it began, with a deadline of 20 ms", took)
	}

	c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // most likely blocked in poll by now; either way it must end
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("read during Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake a blocked read")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}
}

// A manager that leaves the first request unread until more data comes
// (systemd 252's private socket, see wire.nudge) is woken by pings; the
// pings' answers and a signal sent first are not taken for the reply.
func TestWireNudge(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "private")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pings := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			pings <- -1
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		auth, err1 := r.ReadString('\n')
		begin, err2 := r.ReadString('\n')
		if err1 != nil || err2 != nil || !strings.HasPrefix(auth, "\x00AUTH EXTERNAL ") || begin != "BEGIN\r\n" {
			pings <- -1
			return
		}
		io.WriteString(c, "OK 0123456789abcdef0123456789abcdef\r\n")
		send := func(m *godbus.Message) {
			var b bytes.Buffer
			if err := m.EncodeTo(&b, binary.LittleEndian); err == nil {
				c.Write(b.Bytes())
			}
		}
		send(&godbus.Message{Type: godbus.TypeSignal, Headers: map[godbus.HeaderField]godbus.Variant{
			godbus.FieldPath:      godbus.MakeVariant(godbus.ObjectPath("/org/freedesktop/systemd1")),
			godbus.FieldInterface: godbus.MakeVariant(ifaceManager),
			godbus.FieldMember:    godbus.MakeVariant("UnitNew"),
		}})
		var stuck []*godbus.Message
		n := 0
		for {
			m, err := godbus.DecodeMessage(r)
			if err != nil {
				pings <- n
				return
			}
			if m.Headers[godbus.FieldMember].Value() == "Ping" {
				n++
			}
			stuck = append(stuck, m)
			if len(stuck) < 2 {
				continue // the first request sticks until more data comes
			}
			for _, q := range stuck {
				reply := &godbus.Message{Type: godbus.TypeMethodReply, Headers: map[godbus.HeaderField]godbus.Variant{
					godbus.FieldReplySerial: godbus.MakeVariant(q.Serial()),
				}}
				if q.Headers[godbus.FieldMember].Value() == "Get" {
					body := []any{godbus.MakeVariant("x.service")}
					reply.Headers[godbus.FieldSignature] = godbus.MakeVariant(godbus.SignatureOf(body...))
					reply.Body = body
				}
				send(reply)
			}
			stuck = stuck[:0]
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := dialWire(ctx, endpoint{addr: "unix:path=" + path, private: true, path: path})
	if err != nil {
		t.Fatal(err)
	}
	get := w.call(destSystemd, "/org/freedesktop/systemd1/unit/x_2eservice", "org.freedesktop.DBus.Properties", "Get", "ss", ifaceUnit, "Id")
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	w.c.SetDeadline(time.Now().Add(20 * time.Second)) // a failure is an error, not a hang
	var got []uint32
	if _, err := w.replies(1, func(serial int, r *reply) error {
		got = append(got, uint32(serial))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != get {
		t.Errorf("replies handed serials %v, want [%d]", got, get)
	}
	w.Close()
	if n := <-pings; n < 1 {
		t.Errorf("%d pings reached the server, want at least 1", n)
	}
}
