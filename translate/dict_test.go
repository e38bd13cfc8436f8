package translate

import (
	"fmt"
	"slices"
	"testing"
)

// dict keeps Python's dict order on both sides of smallDict (a scan
// below it, an index above): a key set again keeps its place, a deleted
// one leaves the others in order and its index right, a clone is
// independent.
func TestDictOrder(t *testing.T) {
	for _, n := range []int{3, smallDict, smallDict + 1, 3 * smallDict} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var d dict[int]
			var want []string
			for i := range n {
				k := fmt.Sprintf("k%d", i)
				d.set(k, i)
				want = append(want, k)
			}
			d.set("k0", 100) // again: first place kept
			if !slices.Equal(d.keys, want) {
				t.Fatalf("keys %v, want %v", d.keys, want)
			}
			c := d.clone(2)
			d.delete("k1")
			want = slices.Delete(want, 1, 2)
			if _, ok := d.delete("k1"); ok {
				t.Error("deleted k1 twice")
			}
			if !slices.Equal(d.keys, want) {
				t.Fatalf("after delete: keys %v, want %v", d.keys, want)
			}
			for i, k := range want {
				if j, ok := d.find(k); !ok || j != i {
					t.Errorf("find(%s) = %d, %v; want %d", k, j, ok, i)
				}
			}
			if v, ok := d.get("k0"); !ok || v != 100 {
				t.Errorf("get(k0) = %d, %v", v, ok)
			}
			if _, ok := d.get("k1"); ok {
				t.Error("k1 still there after delete")
			}
			if v, ok := c.get("k1"); !ok || v != 1 || len(c.keys) != n {
				t.Errorf("the clone changed with the original: k1 %d %v, %d keys", v, ok, len(c.keys))
			}
			d.reset()
			if _, ok := d.get("k0"); ok || len(d.keys) != 0 {
				t.Error("reset left keys")
			}
		})
	}
}
