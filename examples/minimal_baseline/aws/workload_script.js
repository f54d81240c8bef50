// Workload of minimal_baseline on AWS: GET {BASE_URL}/hello with a fresh
// X-Ray trace header, tagged with its trace id in k6_metrics.csv.
import http from "k6/http";
import { check } from "k6";
import sb from "k6/x/sb";

export default function () {
  const header = sb.xrayTraceHeader();
  const traceId = header.split(";")[0].slice("Root=".length);
  const res = http.get(`${__ENV.BASE_URL}/hello`, {
    headers: { "X-Amzn-Trace-Id": header },
    tags: { trace_id: traceId },
  });
  check(res, { "status 200": (r) => r.status === 200 });
}
