// Where the built web app is opened. The API serves frontend/dist itself once it mounts it; until then
// (and whenever it does not answer `/login` with the app) this small server serves the build and forwards
// `/api` and `/ws` to the API, so the page stays same-origin with its cookies, as in production.
import { existsSync, readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { connect } from "node:net";
import { extname, join, normalize } from "node:path";

import { freePort, ROOT } from "./backend.mjs";

export const DIST = join(ROOT, "frontend", "dist");

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".map": "application/json", ".svg": "image/svg+xml", ".json": "application/json" };

async function apiServesApp(apiOrigin) {
  try {
    const response = await fetch(`${apiOrigin}/login`);
    return response.ok && (response.headers.get("content-type") ?? "").includes("text/html");
  } catch {
    return false;
  }
}

/**
 * `{ origin, close() }` of a same-origin place serving the built app in front of `apiOrigin`; `dist` names
 * another build to serve the same way (the mobile app's web export).
 */
export async function serveWebApp(apiOrigin, { dist = DIST } = {}) {
  if (!existsSync(join(dist, "index.html"))) throw new Error(`${dist} is missing: build the app first`);
  if (dist === DIST && (await apiServesApp(apiOrigin))) return { origin: apiOrigin, servedBy: "api", close: async () => {} };
  const api = new URL(apiOrigin);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname.startsWith("/api/") || url.pathname === "/healthz") {
      const upstream = request({ host: api.hostname, port: api.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
      return;
    }
    const path = normalize(join(dist, decodeURIComponent(url.pathname)));
    const file = path.startsWith(dist) && existsSync(path) && extname(path) !== "" ? path : join(dist, "index.html");
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  server.on("upgrade", (req, socket, head) => {
    const upstream = connect(Number(api.port), api.hostname, () => {
      const headers = Object.entries(req.headers).map(([key, value]) => `${key}: ${value}`).join("\r\n");
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    servedBy: "test proxy",
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
