//go:build !linux

package main

import (
	"errors"
	"time"
)

// treeCPU needs Linux's /proc.
func treeCPU(int) (time.Duration, error) {
	return 0, errors.New("-cpu needs Linux's /proc")
}
