// Workload of thumbnail_generator on AWS: every iteration uploads the sample
// photo (1024x768 JPEG) to POST {BASE_URL}/upload with a fresh X-Ray trace
// header. API Gateway continues that trace, so the request's X-Ray trace id
// is the trace_id tag of its row in k6_metrics.csv.
import http from "k6/http";
import { check } from "k6";
import sb from "k6/x/sb";

const image = open("../shared/sample.jpg", "b");
const baseURL = __ENV.BASE_URL;
if (!baseURL) {
  throw new Error("BASE_URL is not set: pass the API's base URL, e.g. -e BASE_URL=https://abc.execute-api.us-east-1.amazonaws.com/Prod");
}

export default function () {
  const header = sb.xrayTraceHeader(); // "Root=1-<8 hex>-<24 hex>"
  const traceId = header.split(";")[0].slice("Root=".length);
  const res = http.post(`${baseURL}/upload`, image, {
    headers: { "Content-Type": "image/jpeg", "X-Amzn-Trace-Id": header },
    tags: { trace_id: traceId },
  });
  check(res, { "image stored": (r) => r.status === 201 });
}
