/** An API answer as `fetch` resolves it, for tests that stand in for the API: JSON, or a problem document. */
export function jsonResponse(status: number, body: unknown, contentType = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": contentType } });
}
