package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the utime and stime fields of /proc/<pid>/stat: the
// kernel exports them in USER_HZ ticks, which is 100 on every architecture Go
// supports on Linux (proc(5)), whatever CONFIG_HZ the kernel was built with. The
// 10 ms resolution is why CPU is only read around whole phases of many requests.
const userHZ = 100

// procCPU returns the user plus system CPU time consumed so far by process pid,
// all its threads included.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	utime, stime, err := parseStatCPU(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return ticks(utime + stime), nil
}

func ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// parseStatPPID extracts the parent pid (field 4) from a /proc/<pid>/stat line.
func parseStatPPID(line string) (int, error) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return 0, errors.New("no command name in stat line")
	}
	f := strings.Fields(line[end+1:])
	if len(f) < 2 {
		return 0, errors.New("stat line ends before the parent pid")
	}
	return strconv.Atoi(f[1])
}

// descendants lists the processes started by pid, theirs, and so on (nginx's
// workers under its master), from the parent pid of every /proc/<n>/stat. The
// kernel here has no /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN).
func descendants(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	kids := map[int][]int{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue // gone meanwhile
		}
		if ppid, err := parseStatPPID(string(b)); err == nil {
			kids[ppid] = append(kids[ppid], n)
		}
	}
	var out []int
	for queue := kids[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, kids[queue[0]]...)
	}
	return out, nil
}

// parseStatCPU extracts utime and stime (fields 14 and 15, in clock ticks) from
// one /proc/<pid>/stat line. The command name (field 2) is in parentheses and may
// itself hold spaces and parentheses, so fields are counted from its last ')'.
func parseStatCPU(line string) (utime, stime uint64, err error) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return 0, 0, errors.New("no command name in stat line")
	}
	// After ") " come field 3 (state) onwards: utime is field 14, index 11 here.
	f := strings.Fields(line[end+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("stat line has %d fields after the command name, want at least 13", len(f))
	}
	if utime, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("utime: %w", err)
	}
	if stime, err = strconv.ParseUint(f[12], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stime: %w", err)
	}
	return utime, stime, nil
}

// procStatusBytes returns one memory field of /proc/<pid>/status (VmHWM: peak
// resident set; VmRSS: current resident set) in bytes.
func procStatusBytes(pid int, field string) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseStatusKB(f, field)
}

// procStatusText returns the value of one field of /proc/<pid>/status, such as
// Cpus_allowed_list.
func procStatusText(pid int, field string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(rest), nil
		}
	}
	return "", fmt.Errorf("no %s line in /proc/%d/status", field, pid)
}

// parseStatusKB finds the line "<field>:   <n> kB" of a /proc/<pid>/status text
// and returns n*1024 bytes (the kernel's "kB" are KiB).
func parseStatusKB(r io.Reader, field string) (uint64, error) {
	sc := bufio.NewScanner(r)
	prefix := field + ":"
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected value %q", field, strings.TrimSpace(rest))
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s line in status", field)
}
