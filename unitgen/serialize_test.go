package unitgen

import (
	"bytes"
	"io"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
)

// FuzzSerialize checks that appendOptions writes exactly what
// go-systemd's unit.Serialize writes, for any options.
func FuzzSerialize(f *testing.F) {
	f.Add("Unit", "Description", "x", "Service", "ExecStart", "/bin/true", "Unit", "After", "a.service")
	f.Add("", "", "", "", "", "", "", "", "")
	f.Add("Install", "WantedBy", "multi-user.target", "Install", "WantedBy", "b", "Socket", "ListenStream", "/s")
	f.Fuzz(func(t *testing.T, s1, n1, v1, s2, n2, v2, s3, n3, v3 string) {
		opts := []unit.UnitOption{{Section: s1, Name: n1, Value: v1}, {Section: s2, Name: n2, Value: v2}, {Section: s3, Name: n3, Value: v3}, {Section: s1, Name: n2, Value: v3}}
		for n := 0; n <= len(opts); n++ {
			var ptrs []*unit.UnitOption
			for i := range opts[:n] {
				ptrs = append(ptrs, &opts[i])
			}
			want, _ := io.ReadAll(unit.Serialize(ptrs))
			if got := appendOptions(nil, opts[:n]); !bytes.Equal(got, want) {
				t.Fatalf("options %q:\ngot  %q\nwant %q", opts[:n], got, want)
			}
		}
	})
}

// TestRenderSharesNoBytes checks that units written into one arena do not
// overlap: appending to one must not change the next.
func TestRenderSharesNoBytes(t *testing.T) {
	g := &generator{}
	a := g.render([]byte("# a\n"), []unit.UnitOption{opt("Unit", "Description", "a")})
	b := g.render([]byte("# b\n"), []unit.UnitOption{opt("Unit", "Description", "b")})
	a = append(a, "more"...)
	if string(b) != "# b\n[Unit]\nDescription=b\n" {
		t.Errorf("b = %q after appending to a", b)
	}
	if string(a) != "# a\n[Unit]\nDescription=a\nmore" {
		t.Errorf("a = %q", a)
	}
}
