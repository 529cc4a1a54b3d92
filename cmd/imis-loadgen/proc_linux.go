//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ), 100 per second on
// every Linux ABI Go supports.
const clockTick = 10 * time.Millisecond

// treeCPU is the CPU time, user and system, that the process pid and its
// children have used: its own, that of its children it has reaped (so a
// PostgreSQL backend that ended during the run still counts) and that of its
// live children.
func treeCPU(pid int) (time.Duration, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	ticks := f.utime + f.stime + f.cutime + f.cstime
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		child, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil || child == pid {
			continue
		}
		if c, err := procStat(child); err == nil && c.ppid == int64(pid) {
			ticks += c.utime + c.stime
		}
	}
	return time.Duration(ticks) * clockTick, nil
}

type procFields struct{ ppid, utime, stime, cutime, cstime int64 }

// procStat reads /proc/pid/stat (proc(5)): after the command name, which
// is in parentheses and may hold anything, field 4 is the parent's pid and
// fields 14 to 17 the CPU times in clock ticks.
func procStat(pid int) (procFields, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procFields{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procFields{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := bytes.Fields(b[i+1:]) // fields[0] is field 3, the state
	if len(fields) < 15 {
		return procFields{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	n := func(field int) int64 {
		v, _ := strconv.ParseInt(string(fields[field-3]), 10, 64)
		return v
	}
	return procFields{ppid: n(4), utime: n(14), stime: n(15), cutime: n(16), cstime: n(17)}, nil
}
