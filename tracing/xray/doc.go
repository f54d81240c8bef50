// Package xray owns AWS X-Ray for sb: downloading the traces of an
// invocation window (Download, LoadConfig) and analysing them (AnalyzeFile):
// decoding BatchGetTraces documents into a tracing.Graph and supplying the
// X-Ray rules of the breakdown (origins and their categories, Lambda cold
// starts, synchronous Lambda invocations). See README.md for the files and
// their columns.
package xray
