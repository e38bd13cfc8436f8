package generator

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestHugeHeap: after HugeHeap, with the collector off as in the
// generator, the small allocations that follow land in huge pages. It
// runs in a child process (HugeHeap collects garbage and is meant for a
// process's start).
func TestHugeHeap(t *testing.T) {
	if os.Getenv("SUPERSEDE_TEST_HUGEHEAP") == "1" {
		debug.SetGCPercent(-1)
		HugeHeap()
		var keep [][]byte
		for range 16 << 10 { // 16 MB in 1 KB objects, as the generator's garbage
			b := make([]byte, 1024)
			b[0] = 1
			keep = append(keep, b)
		}
		os.Stdout.WriteString("AnonHugePages " + strconv.Itoa(anonHuge(t)) + "\n")
		_ = keep
		return
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skipf("transparent huge pages are off on this host (%q, %v): HugeHeap changes nothing here", mode, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHugeHeap$")
	cmd.Env = append(os.Environ(), "SUPERSEDE_TEST_HUGEHEAP=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, v, ok := strings.Cut(string(out), "AnonHugePages ")
	if !ok {
		t.Fatalf("child said: %s", out)
	}
	kb, _ := strconv.Atoi(strings.Fields(v)[0])
	// At least half of the 16 MB: some of it goes to the pages before the
	// prepared range, or to one huge page not yet filled.
	if kb < 8<<10 {
		t.Fatalf("AnonHugePages: %d kB after 16 MB of small allocations; want 8 MB or more", kb)
	}
}

// anonHuge is the process's AnonHugePages in kB.
func anonHuge(t *testing.T) int {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "AnonHugePages:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	t.Fatal("no AnonHugePages in /proc/self/smaps_rollup")
	return 0
}
