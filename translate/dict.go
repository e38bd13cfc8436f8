package translate

import "slices"

// dict is an insertion-ordered map with str keys, as a Python dict is:
// a key set again keeps its first position, a deleted one leaves the
// others in order. configparser's sections (iniSection) and Supervisor's
// expansion dicts (expansions) are both such dicts, and their order is
// observable (the oracle's key lists, repr of a dict in an error).
//
// It is written here rather than taken from a library: the ordered maps
// on the Go module proxy (github.com/wk8/go-ordered-map/v2,
// github.com/elliotchance/orderedmap/v3) hold a map and a linked list
// element per key, while most dicts here hold a handful of keys and are
// made by the thousand (a section and an expansion dict per program):
// below smallDict keys a dict has no map at all and find scans its keys,
// and expansions share a dict's slices in read-only views (layer), which
// needs its fields.
//
// The zero value is an empty dict.
type dict[V any] struct {
	keys []string
	vals []V // vals[i] is the value of keys[i]
	// index maps a key to its position once there are more than
	// smallDict keys; below that find scans keys.
	index map[string]int
}

// smallDict is the most keys a dict holds without an index.
const smallDict = 8

// find returns the position of key in keys.
func (d *dict[V]) find(key string) (int, bool) {
	if d.index != nil {
		i, ok := d.index[key]
		return i, ok
	}
	for i, k := range d.keys {
		if k == key {
			return i, true
		}
	}
	return 0, false
}

// get returns d[key] and whether key is present.
func (d *dict[V]) get(key string) (V, bool) {
	if i, ok := d.find(key); ok {
		return d.vals[i], true
	}
	var zero V
	return zero, false
}

// set stores d[key] = v; an existing key keeps its position.
func (d *dict[V]) set(key string, v V) {
	if i, ok := d.find(key); ok {
		d.vals[i] = v
		return
	}
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, v)
	switch {
	case d.index != nil:
		d.index[key] = len(d.keys) - 1
	case len(d.keys) > smallDict:
		d.index = make(map[string]int, 2*len(d.keys))
		for i, k := range d.keys {
			d.index[k] = i
		}
	}
}

// delete removes key (Python del d[key], without the KeyError); it
// reports whether key was there and where.
func (d *dict[V]) delete(key string) (int, bool) {
	i, ok := d.find(key)
	if !ok {
		return 0, false
	}
	d.keys = slices.Delete(d.keys, i, i+1)
	d.vals = slices.Delete(d.vals, i, i+1)
	if d.index != nil {
		delete(d.index, key)
		for j := i; j < len(d.keys); j++ {
			d.index[d.keys[j]] = j
		}
	}
	return i, true
}

// clone returns an independent copy (Python d.copy()) with room for
// spare more keys.
func (d *dict[V]) clone(spare int) dict[V] {
	c := dict[V]{
		keys: make([]string, len(d.keys), len(d.keys)+spare),
		vals: make([]V, len(d.vals), len(d.vals)+spare),
	}
	copy(c.keys, d.keys)
	copy(c.vals, d.vals)
	if d.index != nil {
		c.index = make(map[string]int, len(d.keys)+spare)
		for k, v := range d.index {
			c.index[k] = v
		}
	}
	return c
}

// reset empties d and keeps its storage, letting go of its values.
func (d *dict[V]) reset() {
	clear(d.vals)
	d.keys, d.vals, d.index = d.keys[:0], d.vals[:0], nil
}
