// Package k6x is the k6 compiled into sb: RunK6Main is what `sb k6 …` runs,
// and importing the package registers the k6/x/sb JavaScript module that
// workload scripts use to tag requests with trace ids.
package k6x

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	k6cmd "go.k6.io/k6/cmd"
	"go.k6.io/k6/js/modules"
)

// ModuleName is the import path of sb's JavaScript module in workload
// scripts: import sb from "k6/x/sb".
const ModuleName = "k6/x/sb"

func init() {
	modules.Register(ModuleName, new(RootModule))
}

// defaultEnv switches off k6 features that reach the internet on their own:
// anonymous usage reports, and building a new k6 binary in Grafana's cloud
// when a script imports an extension this binary lacks. A user who sets
// these variables keeps their value.
var defaultEnv = map[string]string{
	"K6_NO_USAGE_REPORT":           "true",
	"K6_AUTO_EXTENSION_RESOLUTION": "false",
}

// RunK6Main runs k6 with args (the arguments after `sb k6`, e.g.
// ["run", "script.js"]) in this process and exits with k6's exit code. It
// never returns: k6 ends the process itself. Call it from main before
// anything else touches os.Args or signal handling.
func RunK6Main(args []string) {
	for k, v := range defaultEnv {
		if _, set := os.LookupEnv(k); !set {
			_ = os.Setenv(k, v)
		}
	}
	// k6 reads its command line from os.Args; the program name stays so
	// k6's messages name the sb binary.
	os.Args = append([]string{os.Args[0]}, args...)
	k6cmd.Execute()
	os.Exit(0) // not reached: k6 exits with its own code
}

// RootModule is the k6/x/sb module, shared by all VUs.
type RootModule struct{}

// ModuleInstance is the module as one VU sees it.
type ModuleInstance struct {
	vu modules.VU
}

var (
	_ modules.Module   = new(RootModule)
	_ modules.Instance = new(ModuleInstance)
)

// NewModuleInstance is called by k6 once per VU that imports the module.
func (*RootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	return &ModuleInstance{vu: vu}
}

// Exports lists the module's functions.
func (mi *ModuleInstance) Exports() modules.Exports {
	return modules.Exports{Named: map[string]any{
		"xrayTraceHeader": mi.XrayTraceHeader,
		"traceparent":     mi.Traceparent,
	}}
}

// XrayTraceHeader returns a value for the X-Amzn-Trace-Id header with a
// fresh trace id: Root=1-<8 hex digits of epoch seconds>-<24 random hex>.
func (mi *ModuleInstance) XrayTraceHeader() string {
	return NewXrayTraceHeader(time.Now())
}

// Traceparent returns a W3C Trace Context traceparent header value with a
// fresh, sampled trace: 00-<32 hex trace id>-<16 hex parent id>-01.
func (mi *ModuleInstance) Traceparent() string {
	return NewTraceparent()
}

// NewXrayTraceHeader returns an X-Ray trace header value for time now.
func NewXrayTraceHeader(now time.Time) string {
	return fmt.Sprintf("Root=1-%08x-%s", uint32(now.Unix()), randomHex(12))
}

// NewTraceparent returns a W3C traceparent value with random ids.
func NewTraceparent() string {
	return "00-" + nonZeroHex(16) + "-" + nonZeroHex(8) + "-01"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// nonZeroHex returns n random bytes in hex, never all zeros (W3C forbids
// all-zero trace and parent ids).
func nonZeroHex(n int) string {
	for {
		s := randomHex(n)
		for _, c := range s {
			if c != '0' {
				return s
			}
		}
	}
}
