package generator

import (
	"runtime"
	"syscall"
	"unsafe"
)

// hugeHeap is how much of the heap HugeHeap prepares: what the generator
// allocates for about 2500 programs (23 MB at 1000). Only what is used
// is ever backed by memory.
const hugeHeap = 64 << 20

// hugePage is the size of a transparent huge page on amd64 and arm64 (4 KB
// base pages).
const hugePage = 2 << 20

// HugeHeap asks the kernel to back the generator's heap with transparent
// huge pages (madvise MADV_HUGEPAGE), for a run with the garbage
// collector off (cmd/supersede-generator), where every allocation is
// fresh memory: at 1000 programs that is 23 MB, some 5700 page faults of
// 4 KB, each charged, mapped and zeroed on its own, which took a third of
// the generator's CPU time. With 2 MB pages it is a dozen faults
// (docs/PERFORMANCE.md, "Generator benchmark").
//
// The Go runtime does not ask for huge pages itself, and takes its heap
// from the kernel as it grows; so HugeHeap makes it take hugeHeap bytes
// at once (one large allocation, never written, so never backed), gives
// them back to the runtime's free pages with one collection (a tiny heap
// at this point: well under a millisecond), and advises the kernel about
// that range, which the runtime then hands out to the allocations that
// follow, lowest addresses first. All of it is advice: where transparent
// huge pages are off ("never") or the runtime places its heap otherwise,
// nothing changes but this call's few microseconds. Where memory is too
// fragmented for a free huge page, the kernel compacts some first
// (/sys/kernel/mm/transparent_hugepage/defrag "madvise", the default) or
// falls back to small pages. It must be called with the collector off
// (debug.SetGCPercent(-1)) and before the work.
func HugeHeap() {
	b := make([]byte, hugeHeap)
	start := uintptr(unsafe.Pointer(&b[0]))
	b = nil
	runtime.GC()
	// The address is kept only to name the range to the kernel: it is
	// never read or written through.
	beg := (start + hugePage - 1) &^ (hugePage - 1)
	end := (start + hugeHeap) &^ (hugePage - 1)
	if beg < end {
		syscall.Syscall(syscall.SYS_MADVISE, beg, end-beg, syscall.MADV_HUGEPAGE)
	}
}
