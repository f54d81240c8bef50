// Workload of thumbnail_generator on Azure: every iteration uploads the
// sample photo (1024x768 JPEG) to POST {BASE_URL}/api/upload with a fresh
// W3C traceparent. Azure Functions continues that trace, so its trace id is
// the request's Application Insights operation_Id, and the trace_id tag of
// its row in k6_metrics.csv. The upload is stored under that id, which the
// blob-triggered thumbnail operation then carries in its blob name.
import http from "k6/http";
import { check } from "k6";
import sb from "k6/x/sb";

const image = open("../shared/sample.jpg", "b");
const baseURL = __ENV.BASE_URL;
if (!baseURL) {
  throw new Error("BASE_URL is not set: pass the function app's URL, e.g. -e BASE_URL=https://thumbnail-sb123456.azurewebsites.net");
}

export default function () {
  const traceparent = sb.traceparent(); // "00-<32 hex trace id>-<16 hex>-01"
  const traceId = traceparent.split("-")[1];
  const res = http.post(`${baseURL}/api/upload`, image, {
    headers: { "Content-Type": "image/jpeg", traceparent: traceparent },
    tags: { trace_id: traceId },
  });
  check(res, { "image stored": (r) => r.status === 201 });
}
