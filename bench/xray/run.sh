#!/bin/sh
# Measures X-Ray trace analysis on a generated file: time, throughput and
# peak memory. Usage: bench/xray/run.sh [TRACES] [WORKDIR]
# (defaults: 20000 traces in a fresh temporary directory).
set -eu
n=${1:-20000}
work=${2:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$work/xray-bench"

cd "$root"
go build -o "$bin" ./bench/xray
[ -f "$work/traces.json" ] || "$bin" gen -n "$n" -o "$work/traces.json"

echo "== sb's analysis (3 runs)"
for i in 1 2 3; do
	rm -f "$work/trace_breakdown.csv" "$work/invalid_traces.csv"
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "   wall %e s, peak RSS %M KB" "$bin" analyze "$work/traces.json"
	else
		"$bin" analyze "$work/traces.json"
	fi
done
echo "files in $work"
