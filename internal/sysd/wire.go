package sysd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// wire is a minimal D-Bus client for one job: reading properties of
// many units at once, pipelined. It writes every request of a batch in
// one write(2) and reads the replies through one buffer.
//
// Why not godbus (which go-systemd's dbus package uses, and which this
// package uses for everything else): godbus sends each message with its
// own sendmsg(2) and encodes and decodes through reflection. For the
// 1000 Properties.Get calls of a 1000-program `status` that was about
// 30 ms of client time, where the budget for the whole command
// is 30 ms; this codec, which knows only the few shapes status reads
// (s, o, u, t, a(ssssssouso), a(sasbttttuii)), takes a few ms. It speaks
// only to unix sockets (the manager's private socket, or a bus daemon's),
// which is where systemd always is.
type wire struct {
	c      net.Conn
	r      *bufio.Reader
	serial uint32
	buf    bytes.Buffer    // the batch
	msg    bytes.Buffer    // the message being built
	body   bytes.Buffer    // its body
	in     []byte          // the message being read
	last   reply           // the reply next returned, valid until the next call
	fresh  bool            // no reply has come yet on the private socket: see nudge
	pings  map[uint32]bool // the serials of nudge's pings, whose answers replies skips
	// execStarts counts the Gets of ExecStart sent: the per-unit calls
	// that the runs' cache and records save (runs.go; tests count them)
	execStarts int
}

// dialWire connects to a D-Bus unix socket address and authenticates
// with EXTERNAL as the effective uid; on a bus (not private) it says
// Hello, as the bus requires before any other call.
func dialWire(ctx context.Context, ep endpoint) (*wire, error) {
	_, addr, err := unixAddress(ep.addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	return dialOnce(ctx, addr, ep, deadline)
}

// dialOnce connects and authenticates, all before deadline.
func dialOnce(ctx context.Context, addr string, ep endpoint, deadline time.Time) (*wire, error) {
	c, err := dialPaced(ctx, addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(deadline)
	w := &wire{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	uid := strconv.Itoa(os.Geteuid())
	// On the manager's private socket, BEGIN goes with AUTH in one
	// write, as sd-bus's own clients (systemctl) send it: see nudge.
	auth := fmt.Sprintf("\x00AUTH EXTERNAL %x\r\n", uid)
	if ep.private {
		auth += "BEGIN\r\n"
	}
	if _, err := io.WriteString(c, auth); err != nil {
		c.Close()
		return nil, err
	}
	line, err := w.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("authentication: %w", err)
	}
	if !strings.HasPrefix(line, "OK ") {
		c.Close()
		return nil, fmt.Errorf("authentication refused: %s", strings.TrimSpace(line))
	}
	defer c.SetDeadline(time.Time{})
	if ep.private {
		w.fresh = true
		return w, nil
	}
	if _, err := io.WriteString(c, "BEGIN\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	w.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "")
	if err := w.flush(); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := w.replies(1, func(int, *reply) error { return nil }); err != nil {
		c.Close()
		return nil, fmt.Errorf("Hello: %w", err)
	}
	return w, nil
}

// nudge waits for the first message on a fresh connection to the
// manager's private socket, and sends Peer.Ping whenever none comes
// within a short and growing wait. systemd 252's own D-Bus server can
// read BEGIN and the message after it in one go and then leave that
// message in its buffer until more data arrives: a request sent right
// after a BEGIN of its own write waited forever (seen here with units
// being started), and each ping wakes the server up. dialOnce sends
// BEGIN in the same write as AUTH, as sd-bus's clients do, so the server
// has read it before it answers OK and the first request comes as new
// data: nothing should stick, and no round trip is spent on making
// sure (the ping-until-answered settle this replaced cost every ctl
// command one, and a timed wait: 1.4 ms). The pings' answers are
// skipped (pings). Signals do not end the wait: the manager sends its
// signals to every client of the private socket, whether it read their
// requests or not.
func (w *wire) nudge() error {
	pc, _ := w.c.(*pacedConn)
	var dl time.Time // the caller's read deadline
	if pc != nil {
		if ns := pc.rdl.Load(); ns != 0 {
			dl = time.Unix(0, ns)
		}
	}
	defer w.c.SetReadDeadline(dl)
	for wait, sent := time.Millisecond, 0; ; wait = min(2*wait, 200*time.Millisecond) {
		limit := time.Now().Add(wait)
		if !dl.IsZero() && dl.Before(limit) {
			limit = dl
		}
		w.c.SetReadDeadline(limit)
		_, err := w.r.Peek(16) // wait for a message without consuming it
		var ne net.Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ne) && ne.Timeout() && sent < 100 && (dl.IsZero() || time.Now().Before(dl)):
			if w.pings == nil {
				w.pings = map[uint32]bool{}
			}
			w.pings[w.call(destSystemd, "/org/freedesktop/systemd1", "org.freedesktop.DBus.Peer", "Ping", "")] = true
			sent++
			if err := w.flush(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("waiting for the manager after authentication: %w", err)
		}
	}
}

// unixAddress picks the first unix:path= or unix:abstract= entry of a
// D-Bus server address list.
func unixAddress(addr string) (network, address string, err error) {
	for _, a := range strings.Split(addr, ";") {
		kind, rest, ok := strings.Cut(a, ":")
		if !ok || kind != "unix" {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v = unescapeAddr(v)
			switch k {
			case "path":
				return "unix", v, nil
			case "abstract":
				return "unix", "@" + v, nil
			}
		}
	}
	return "", "", fmt.Errorf("D-Bus address %q has no unix socket (only unix:path= and unix:abstract= are supported)", addr)
}

// unescapeAddr undoes the %XX escapes of a D-Bus address value.
func unescapeAddr(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (w *wire) Close() error { return w.c.Close() }

// The encoder writes little-endian messages.
var le = binary.LittleEndian

func pad(b *bytes.Buffer, align int) {
	for b.Len()%align != 0 {
		b.WriteByte(0)
	}
}

func putU32(b *bytes.Buffer, v uint32) {
	pad(b, 4)
	var x [4]byte
	le.PutUint32(x[:], v)
	b.Write(x[:])
}

func putString(b *bytes.Buffer, s string) {
	putU32(b, uint32(len(s)))
	b.WriteString(s)
	b.WriteByte(0)
}

func putSig(b *bytes.Buffer, s string) {
	b.WriteByte(byte(len(s)))
	b.WriteString(s)
	b.WriteByte(0)
}

// header field codes
const (
	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSignature   = 8
)

// call appends a method call to the batch; args are strings (signature
// "s", "ss") or, with signature "as", one []string. It returns the
// call's serial.
func (w *wire) call(dest, path, iface, member, sig string, args ...any) uint32 {
	body := &w.body
	body.Reset()
	for _, a := range args {
		switch a := a.(type) {
		case string:
			putString(body, a)
		case []string:
			putU32(body, 0) // length, patched below
			at := body.Len()
			for _, s := range a {
				putString(body, s)
			}
			le.PutUint32(body.Bytes()[at-4:], uint32(body.Len()-at))
		}
	}
	if member == "Get" && len(args) == 2 && args[1] == "ExecStart" {
		w.execStarts++
	}
	w.serial++
	// alignment counts from the start of the message, so each message is
	// built on its own and then appended to the batch
	b := &w.msg
	b.Reset()
	b.Write([]byte{'l', 1, 0, 1})
	putU32(b, uint32(body.Len()))
	putU32(b, w.serial)
	putU32(b, 0) // header fields length, patched below
	at := b.Len()
	field := func(code byte, sig string, v string) {
		pad(b, 8)
		b.WriteByte(code)
		putSig(b, sig)
		if sig == "g" {
			putSig(b, v)
		} else {
			putString(b, v)
		}
	}
	field(fieldPath, "o", path)
	if iface != "" {
		field(fieldInterface, "s", iface)
	}
	field(fieldMember, "s", member)
	field(fieldDestination, "s", dest)
	if sig != "" {
		field(fieldSignature, "g", sig)
	}
	le.PutUint32(b.Bytes()[at-4:], uint32(b.Len()-at))
	pad(b, 8) // the body starts 8-aligned
	b.Write(body.Bytes())
	w.buf.Write(b.Bytes())
	return w.serial
}

// flush writes the batch.
func (w *wire) flush() error {
	_, err := w.c.Write(w.buf.Bytes())
	w.buf.Reset()
	return err
}

// reply is one method return or error.
type reply struct {
	serial  uint32 // the call it answers
	errName string // "" for a method return
	sig     string
	body    []byte
	order   binary.ByteOrder
}

// DBusError is an error reply.
type DBusError struct {
	Name, Message string
}

func (e *DBusError) Error() string { return e.Name + ": " + e.Message }

func (r *reply) err() error {
	if r.errName == "" {
		return nil
	}
	msg := ""
	if strings.HasPrefix(r.sig, "s") {
		d := decoder{b: r.body, o: r.order}
		msg = d.str()
	}
	return &DBusError{Name: r.errName, Message: msg}
}

// replies reads messages until n replies (to calls of this wire) have
// come, handing each to fn with its serial; signals are skipped. The
// reply is valid only during fn.
func (w *wire) replies(n int, fn func(serial int, r *reply) error) (int, error) {
	got := 0
	for got < n {
		if w.fresh {
			if err := w.nudge(); err != nil {
				return got, err
			}
		}
		r, err := w.next()
		if err != nil {
			return got, err
		}
		if r == nil {
			continue
		}
		w.fresh = false
		if w.pings[r.serial] {
			delete(w.pings, r.serial)
			continue
		}
		got++
		if err := fn(int(r.serial), r); err != nil {
			return got, err
		}
	}
	return got, nil
}

// next reads one message and returns it if it is a reply to a call of
// this wire, nil otherwise (a signal: the manager sends them to every
// client of its private socket). The reply is valid until the next call.
func (w *wire) next() (*reply, error) {
	var fixed [16]byte
	if _, err := io.ReadFull(w.r, fixed[:]); err != nil {
		return nil, err
	}
	var o binary.ByteOrder
	switch fixed[0] {
	case 'l':
		o = binary.LittleEndian
	case 'B':
		o = binary.BigEndian
	default:
		return nil, fmt.Errorf("bad D-Bus message endianness %q", fixed[0])
	}
	typ := fixed[1]
	bodyLen := o.Uint32(fixed[4:])
	fieldsLen := o.Uint32(fixed[12:])
	if bodyLen > 128<<20 || fieldsLen > 1<<20 {
		return nil, errors.New("D-Bus message too large")
	}
	hdrEnd := (16 + int(fieldsLen) + 7) &^ 7
	// one buffer serves every message: a reply is decoded before the
	// next is read (replies' fn must not keep it)
	size := hdrEnd + int(bodyLen)
	if cap(w.in) < size {
		w.in = make([]byte, max(size, 4<<10))
	}
	msg := w.in[:size]
	copy(msg, fixed[:])
	if _, err := io.ReadFull(w.r, msg[16:]); err != nil {
		return nil, err
	}
	if typ != 2 && typ != 3 { // not a method return or an error
		return nil, nil
	}
	r := &w.last
	*r = reply{order: o, body: msg[hdrEnd:]}
	d := decoder{b: msg[:16+fieldsLen], o: o, p: 16}
	for d.p < len(d.b) && d.err == nil {
		d.align(8)
		code := d.byte()
		sig := d.sig()
		switch sig {
		case "u":
			v := d.u32()
			if code == fieldReplySerial {
				r.serial = v
			}
		case "s", "o":
			v := d.str()
			if code == fieldErrorName {
				r.errName = v
			}
		case "g":
			v := d.sig()
			if code == fieldSignature {
				r.sig = v
			}
		default:
			d.err = fmt.Errorf("unexpected header field type %q", sig)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if r.serial == 0 || r.serial > w.serial {
		return nil, nil
	}
	return r, nil
}

// decoder reads D-Bus values; offsets are from the start of the message
// part (header or body), which is 8-aligned.
type decoder struct {
	b   []byte
	p   int
	o   binary.ByteOrder
	err error
}

func (d *decoder) align(n int) {
	d.p = (d.p + n - 1) &^ (n - 1)
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if d.p+n > len(d.b) {
		d.err = errors.New("truncated D-Bus message")
		return false
	}
	return true
}

func (d *decoder) byte() byte {
	if !d.need(1) {
		return 0
	}
	d.p++
	return d.b[d.p-1]
}

func (d *decoder) u32() uint32 {
	d.align(4)
	if !d.need(4) {
		return 0
	}
	d.p += 4
	return d.o.Uint32(d.b[d.p-4:])
}

func (d *decoder) u64() uint64 {
	d.align(8)
	if !d.need(8) {
		return 0
	}
	d.p += 8
	return d.o.Uint64(d.b[d.p-8:])
}

func (d *decoder) str() string {
	n := int(d.u32())
	if !d.need(n + 1) {
		return ""
	}
	s := string(d.b[d.p : d.p+n])
	d.p += n + 1
	return s
}

func (d *decoder) sig() string {
	n := int(d.byte())
	if !d.need(n + 1) {
		return ""
	}
	s := string(d.b[d.p : d.p+n])
	d.p += n + 1
	return s
}

// view reads a string without copying it: valid as long as the message.
func (d *decoder) view() []byte {
	n := int(d.u32())
	if !d.need(n + 1) {
		return nil
	}
	b := d.b[d.p : d.p+n]
	d.p += n + 1
	return b
}

// strings reads an "as".
func (d *decoder) strings() []string {
	n := int(d.u32())
	end := d.p + n
	var out []string
	for d.err == nil && d.p < end {
		out = append(out, d.str())
	}
	return out
}

// skipStrings skips an "as".
func (d *decoder) skipStrings() {
	n := int(d.u32())
	end := d.p + n
	for d.err == nil && d.p < end {
		d.str()
	}
}
