package gcfloor

import (
	"math"
	"testing"
)

const mib = 1 << 20

// Percent puts the heap goal at the floor when the live heap is small, leaves the
// base alone when it is large, and stays under the limit where the runtime's heap
// minimum takes over.
func TestPercent(t *testing.T) {
	tests := []struct {
		name               string
		base               int
		floor, live, roots uint64
		want               int
	}{
		{"no floor", 100, 0, 0, 0, 100},
		{"live 0: the limit", 100, 64 * mib, 0, 0, 1600},
		{"roots only: the limit", 100, 64 * mib, 0, mib, 1600},
		{"tiny live heap: the limit", 100, 64 * mib, 2 * mib, 0, 1600},
		{"small live heap", 100, 64 * mib, 8 * mib, 0, 700},
		{"roots count in the goal", 100, 64 * mib, 8 * mib, 2 * mib, 560},
		{"live half the floor", 100, 64 * mib, 32 * mib, 0, 100},
		{"live above half the floor", 100, 64 * mib, 40 * mib, 0, 100},
		{"live equal to the floor", 100, 64 * mib, 64 * mib, 0, 100},
		{"live above the floor", 100, 64 * mib, 1 << 30, 4 * mib, 100},
		{"base above the floor's percent", 300, 64 * mib, 16 * mib, 0, 300},
		{"base under the floor's percent", 50, 64 * mib, 16 * mib, 0, 300},
		{"GC off stays off", -1, 64 * mib, mib, 0, -1},
		{"floor under the heap minimum", 100, mib, 0, 0, 100},
		{"huge floor, live 0", 100, math.MaxUint64, 0, 0, math.MaxInt32},
		{"huge floor, live 1", 100, math.MaxUint64, 1, 0, math.MaxInt32},
		{"huge floor and roots", 100, math.MaxUint64 / 2, 0, math.MaxUint64 / 4, 200},
	}
	for _, tt := range tests {
		if got := Percent(tt.base, tt.floor, tt.live, tt.roots); got != tt.want {
			t.Errorf("%s: Percent(%d, %d, %d, %d) = %d, want %d", tt.name, tt.base, tt.floor, tt.live, tt.roots, got, tt.want)
		}
	}
}

// goal is the runtime's heap goal for a GC percent after a cycle that found live
// bytes live and scanned roots bytes of stacks and globals (runtime/mgcpacer.go).
func goal(percent int, live, roots uint64) uint64 {
	p := uint64(percent)
	return max(live+(live+roots)*p/100, heapMinimum*p/100)
}

// With the percent Percent returns, the runtime's heap goal is the floor (to 1%)
// for every live heap under half of it, and twice the live heap above.
func TestPercentPutsTheGoalAtTheFloor(t *testing.T) {
	for _, floor := range []uint64{16 * mib, 32 * mib, 64 * mib, 256 * mib} {
		for live := uint64(0); live <= 2*floor; live += floor / 64 {
			for _, roots := range []uint64{0, 256 << 10, 4 * mib} {
				p := Percent(100, floor, live, roots)
				got := goal(p, live, roots)
				want := max(floor, goal(100, live, roots))
				if got < want-want/100 || got > want+want/100 {
					t.Errorf("floor %d, live %d, roots %d: percent %d gives a goal of %d, want %d", floor, live, roots, p, got, want)
				}
			}
		}
	}
}
