#!/usr/bin/env node
// A plain static file server that mimics the hosts a course uses, for the hosting and embed
// tests (tests/browser/hosting.spec.ts, embed-origin.spec.ts). Unlike tests/browser/server.mjs
// it adds nothing a real host would not: no CORS, no hub, no test hooks.
//
//   --headers none       only Content-Type, as an LMS file area or GitHub Pages without
//                        configuration: threads need the service worker (coi-serviceworker)
//   --headers isolation  COOP/COEP/CORP, as a web server configured per README "Deploying the lab"
//   --base /a/b/         the files live under a sub-path (GitHub Pages project site, LMS folder)
//   --lab URL            in .html files, the documented placeholder lab address
//                        (https://YOUR-NAME.github.io/hooklab/) becomes URL: serves the example
//                        course page (docs/embed-example.html) pointing at a lab on another origin
//
//   node tests/browser/static-host.mjs --port 5190 --dir web/dist [--headers none] [--base /] [--lab URL]
import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";

export const LAB_PLACEHOLDER = "https://YOUR-NAME.github.io/hooklab/";
export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  // Lets course pages that are themselves isolated embed the lab from another origin.
  "Cross-Origin-Resource-Policy": "cross-origin",
};
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml", ".bpe": "text/plain",
  ".txt": "text/plain", ".md": "text/markdown", ".safetensors": "application/octet-stream",
};

/** Starts a host; resolves to the server once it listens (port 0: any free port, see address()). */
export function startStaticHost({ port, dir, headers = "none", base = "/", lab }) {
  const root = resolve(dir);
  const extra = headers === "isolation" ? ISOLATION_HEADERS : {};
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://host").pathname);
    const rel = path.startsWith(base) ? path.slice(base.length) : undefined;
    const file = rel === undefined ? undefined : normalize(join(root, rel === "" || rel.endsWith("/") ? `${rel}index.html` : rel));
    if (!file || !file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "Content-Type": "text/plain", ...extra });
      res.end("not found");
      return;
    }
    let body = readFileSync(file);
    if (lab && extname(file) === ".html") body = Buffer.from(body.toString("utf8").replaceAll(LAB_PLACEHOLDER, lab));
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": body.length, ...extra });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return new Promise((done) => server.listen(port, "127.0.0.1", () => done(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const options = { port: Number(arg("port", 5190)), dir: arg("dir", "web/dist"), headers: arg("headers", "none"),
    base: arg("base", "/"), lab: arg("lab") };
  startStaticHost(options).then(() => console.log(`static host (${options.headers}): http://127.0.0.1:${options.port}${options.base}`));
}
