//go:build unix

package loadgen

import (
	"os"
	"os/exec"
	"syscall"
)

// detach puts k6 in its own process group: a Ctrl-C in the terminal then
// reaches only sb, which interrupts k6 exactly once. Two interrupts would
// make k6 abort without writing its summary.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func interrupt(p *os.Process) error {
	return p.Signal(os.Interrupt)
}
