// Workload of the local_http benchmark: one thumbnail request per
// iteration (sb invoke decides how many and when), each carrying a fresh
// X-Ray trace header. The function logs its timings under that trace id, and
// the same id tags the request in k6_metrics.csv, so the client-side latency
// and the server-side breakdown of every request can be joined.
import http from "k6/http";
import { check } from "k6";
import sb from "k6/x/sb";

const baseURL = __ENV.BASE_URL;
if (!baseURL) {
  throw new Error("BASE_URL is not set: pass the function's address, e.g. -e BASE_URL=http://127.0.0.1:8080");
}

export default function () {
  const header = sb.xrayTraceHeader(); // "Root=1-<8 hex>-<24 hex>"
  // The bare id, exactly the KEY of the function's log lines.
  const traceId = header.slice("Root=".length);
  const res = http.get(`${baseURL}/`, {
    headers: { "X-Amzn-Trace-Id": header },
    tags: { trace_id: traceId },
  });
  check(res, { "thumbnail made": (r) => r.status === 200 && r.headers["Content-Type"] === "image/png" });
}
