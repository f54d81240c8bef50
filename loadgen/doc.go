// Package loadgen owns sb's load generation: workload patterns (steady,
// bursty, spikes, jump, user CSV traces) turned into per-second arrival rates
// and then into k6 options, rendering a workload for `sb workload show`,
// running the embedded k6 as a child process of the sb binary, and reading
// k6's summary after a run. The k6 binary itself (the `sb k6` entry point and
// the `k6/x/sb` JavaScript module) lives in the k6x sub-package so that
// programs which only plan workloads do not have to link k6.
package loadgen
