package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// CPU pinning. The method of issue 14 measures the proxy under test alone on
// one core and llmbench's load generator plus fake upstream on another, so that
// the three processes do not take turns on the same CPUs: the throughput ratio
// then measures the proxy, not how the scheduler shares two cores among three
// busy processes. Affinity is set with sched_setaffinity(2); a new process
// inherits the mask of the thread that forks it, and so does every thread it
// starts, so a child started pinned stays pinned with all its threads (and a Go
// child sizes its GOMAXPROCS from it).

// cpuPlan is where a pinned run puts its processes.
type cpuPlan struct {
	load  int // llmbench: the load generator and the fake upstream
	proxy int // the proxy under test: router, reference proxy or nginx
}

// maxCPUs is the size of the fixed unix.CPUSet (CPU_SETSIZE).
const maxCPUs = 1024

// allowedCPUs lists, in ascending order, the CPUs the calling thread may run on.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for i := 0; i < maxCPUs && len(cpus) < set.Count(); i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// planCPUs puts llmbench on the first CPU it may use and the proxy under test
// on the second (CPU 0 and CPU 1 on a plain 2-core machine). ok is false when
// there are fewer than two.
func planCPUs() (plan cpuPlan, ok bool, err error) {
	cpus, err := allowedCPUs()
	if err != nil || len(cpus) < 2 {
		return plan, false, err
	}
	return cpuPlan{load: cpus[0], proxy: cpus[1]}, true, nil
}

// pinSelf confines every thread of llmbench to cpu and sets GOMAXPROCS to 1, as
// if llmbench had been started with `taskset -c cpu`. The returned undo restores
// the mask llmbench had and the default GOMAXPROCS (tests call run in-process).
func pinSelf(cpu int) (undo func(), err error) {
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	set.Set(cpu)
	if err := setAllThreads(&set); err != nil {
		_ = setAllThreads(&old)
		return nil, fmt.Errorf("pinning llmbench to CPU %d: %w", cpu, err)
	}
	prev := runtime.GOMAXPROCS(1)
	return func() {
		_ = setAllThreads(&old)
		if os.Getenv("GOMAXPROCS") == "" {
			runtime.SetDefaultGOMAXPROCS()
		} else {
			runtime.GOMAXPROCS(prev)
		}
	}, nil
}

// setAllThreads sets the affinity of every thread of this process. A thread the
// runtime starts meanwhile inherits the mask of the thread that starts it, so
// passes over /proc/self/task repeat until one finds no thread not yet set.
func setAllThreads(set *unix.CPUSet) error {
	done := map[int]bool{}
	for range 10 {
		tids, err := threadIDs()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			done[tid] = true
			if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("sched_setaffinity of thread %d: %w", tid, err)
			}
		}
		if fresh == 0 {
			return nil
		}
	}
	return errors.New("threads kept appearing while their affinity was set")
}

// threadIDs lists the threads of this process.
func threadIDs() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// startOn starts cmd confined to cpu (a negative cpu: with llmbench's own mask).
// The child inherits the mask of the thread that forks it, so the start runs
// on a goroutine locked to its OS thread, whose mask is switched to cpu for the
// fork and back afterwards. While the goroutine is locked, the threads the Go
// runtime needs are created by its template thread, so none inherits cpu. The
// forking thread returns to the pool alive, which matters because Pdeathsig
// fires when the thread that started the child exits.
func startOn(start func() error, cpu int) error {
	if cpu < 0 {
		return start()
	}
	errc := make(chan error, 1)
	go func() { errc <- startLocked(start, cpu) }()
	return <-errc
}

func startLocked(start func() error, cpu int) error {
	runtime.LockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("sched_setaffinity to CPU %d: %w", cpu, err)
	}
	startErr := start()
	if err := unix.SchedSetaffinity(0, &old); err != nil {
		// Stay locked: the thread then exits with this goroutine instead of
		// carrying the proxy's CPU back into llmbench's pool. Its exit also
		// kills a child just started (Pdeathsig), and the run stops anyway.
		return errors.Join(startErr, fmt.Errorf("restoring the affinity of the starting thread: %w", err))
	}
	runtime.UnlockOSThread()
	return startErr
}
