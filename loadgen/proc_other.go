//go:build !unix

package loadgen

import (
	"os"
	"os/exec"
)

func detach(*exec.Cmd) {}

// interrupt kills: Windows has no interrupt signal to send to a child.
func interrupt(p *os.Process) error {
	return p.Kill()
}
