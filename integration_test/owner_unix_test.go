//go:build unix

package integration_test

import (
	"fmt"
	"os"
	"syscall"
)

func ownerOf(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(fi.Sys().(*syscall.Stat_t).Uid)
}
