// Package tracing owns what every trace provider shares: the span model
// (Graph, Span), the critical-path latency breakdown that splits a trace's
// end-to-end duration into categories (design/xray-breakdown.md, steps 2–5),
// the time arithmetic that makes the numbers match the ServiBench study to
// the microsecond, and the writers for trace_breakdown.csv and
// invalid_traces.csv.
//
// Providers (tracing/xray, later Azure) turn their documents into a Graph
// (step 1) and supply the provider-specific judgements through Rules:
// categories, which calls are known to be synchronous, cold starts.
package tracing
