// The JavaScript a first visit to a route downloads, from Vite's build manifest: the entry, the route's
// own split chunks, and every chunk those import statically (dynamic imports load later, on demand).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { DIST } from "./webapp.mjs";

export function readManifest() {
  return JSON.parse(readFileSync(join(DIST, ".vite", "manifest.json"), "utf8"));
}

export function initialJs(manifest, routeSource) {
  const files = new Set();
  const visit = (key) => {
    const chunk = manifest[key];
    if (chunk === undefined || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  const entries = Object.entries(manifest).filter(([, chunk]) => chunk.isEntry);
  for (const [key] of entries) visit(key);
  const routeChunks = Object.keys(manifest).filter((key) => (manifest[key].src ?? key).includes(routeSource));
  if (routeChunks.length === 0) throw new Error(`no chunk of ${routeSource} in the manifest`);
  for (const key of routeChunks) visit(key);
  return [...files].filter((file) => file.endsWith(".js"));
}

export function gzipSize(file) {
  return gzipSync(readFileSync(join(DIST, file)), { level: 9 }).length;
}
