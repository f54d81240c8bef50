// Workload of minimal_baseline on Azure: GET {BASE_URL}/api/hello with a
// fresh W3C traceparent, tagged with its trace id (the request's
// Application Insights operation_Id) in k6_metrics.csv.
import http from "k6/http";
import { check } from "k6";
import sb from "k6/x/sb";

export default function () {
  const traceparent = sb.traceparent();
  const res = http.get(`${__ENV.BASE_URL}/api/hello`, {
    headers: { traceparent: traceparent },
    tags: { trace_id: traceparent.split("-")[1] },
  });
  check(res, { "status 200": (r) => r.status === 200 });
}
