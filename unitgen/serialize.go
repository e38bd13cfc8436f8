package unitgen

import "github.com/coreos/go-systemd/v22/unit"

// arenaSize is how much output the generator allocates at a time.
const arenaSize = 256 << 10

// render is header followed by opts written exactly as go-systemd's
// unit.Serialize writes them (sections in the order first seen, options
// in order within each, a blank line between sections; the tests check
// the bytes are the same). Serialize grows a fresh buffer for every unit
// and hands it back through an io.Reader; for a thousand programs that
// was 9 MB of allocation, a fifth of what the generator allocated at
// boot, so units are written here into one shared arena instead.
func (g *generator) render(header []byte, opts []unit.UnitOption) []byte {
	n := len(header)
	for _, o := range opts {
		n += len(o.Section) + len(o.Name) + len(o.Value) + 5
	}
	if cap(g.arena)-len(g.arena) < n {
		g.arena = make([]byte, 0, max(arenaSize, n))
	}
	start := len(g.arena)
	b := append(g.arena, header...)
	b = appendOptions(b, opts)
	g.arena = b
	return b[start:len(b):len(b)]
}

// appendOptions appends opts to b in unit.Serialize's layout.
func appendOptions(b []byte, opts []unit.UnitOption) []byte {
	var sections [8]string
	seen := sections[:0]
	for _, o := range opts {
		found := false
		for _, s := range seen {
			if s == o.Section {
				found = true
				break
			}
		}
		if !found {
			seen = append(seen, o.Section)
		}
	}
	for i, s := range seen {
		b = append(b, '[')
		b = append(b, s...)
		b = append(b, "]\n"...)
		for _, o := range opts {
			if o.Section == s {
				b = append(b, o.Name...)
				b = append(b, '=')
				b = append(b, o.Value...)
				b = append(b, '\n')
			}
		}
		if i < len(seen)-1 {
			b = append(b, '\n')
		}
	}
	return b
}
