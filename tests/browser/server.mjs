#!/usr/bin/env node
// The test server for browser tests and benchmarks (also handy to preview a build):
//
//   /            web/dist, cross-origin isolated (COOP/COEP): the engine may use threads
//   /plain/      web/dist without isolation headers: the single-threaded build, as in embeds
//   /repo/       read-only repository files the tests compare against (fixtures, test models);
//                bench/pages/ and build/bench/ort/ under it are cross-origin isolated
//   /hub/        a stand-in for the Hugging Face hub: /hub/api/models/<id>/tree/<rev> and
//                /hub/<id>/resolve/<rev>/<file>, with range requests, serving models/testdata
//                (and the generated models of build/bench).
//                Test ids inject faults: test/drop-<model> drops the connection mid-file once,
//                test/badsize-<model> announces a wrong size, test/corrupt-<model> a wrong
//                SHA-256, test/missing answers 404. GET /__hub-log lists the hub requests (path
//                and Range header) since the last GET /__reset, so tests can see resumes.
//                GET /__hub-offline makes the hub drop every connection unanswered (as with no
//                network) until the next reset; those requests are logged with refused: true.
//
//   node tests/browser/server.mjs [--port 4173] [--dist web/dist]
import { createServer } from "node:http";
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { extname, join, normalize, resolve } from "node:path";

const root = resolve(new URL("../..", import.meta.url).pathname);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const port = Number(arg("port", process.env.PORT ?? 4173));
const dist = resolve(root, arg("dist", "web/dist"));

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml", ".png": "image/png",
  ".bpe": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
  ".npy": "application/octet-stream", ".safetensors": "application/octet-stream", ".jsonl": "application/json",
};
const REPO_DIRS = ["tests/fixtures", "models/testdata", "models/hooklab-demo", "models/tokenizer", "bench", "build/bench"];
// Benchmark pages, the peer runtime they load (onnxruntime-web, copied by bench/forward.mjs) and the
// SIMD-peak / GEMM probes (build/bench/probes)
// are served cross-origin isolated: the peer's threads need SharedArrayBuffer, and its worker
// scripts must carry COEP themselves to start under an isolated page.
const ISOLATED_REPO_DIRS = ["bench/pages", "build/bench/ort", "build/bench/probes"];
const dropped = new Set();  // ids whose one dropped connection already happened
const hubLog = [];  // {path, range, refused} of each hub request since the last reset
let hubOffline = false;

function safeJoin(base, path) {
  const full = normalize(join(base, decodeURIComponent(path)));
  return full.startsWith(base) ? full : undefined;
}

function sendFile(req, res, file, headers = {}, { truncateAt } = {}) {
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { "Content-Type": "text/plain", ...headers });
    res.end("not found");
    return;
  }
  const size = statSync(file).size;
  const type = TYPES[extname(file)] ?? "application/octet-stream";
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  let start = 0, end = size - 1, status = 200;
  if (range) {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size) {
      res.writeHead(416, { "Content-Range": `bytes */${size}`, ...headers });
      res.end();
      return;
    }
    status = 206;
  }
  res.writeHead(status, {
    "Content-Type": type, "Content-Length": end - start + 1, "Accept-Ranges": "bytes", "Cache-Control": "no-cache",
    ...(status === 206 ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}), ...headers,
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  if (truncateAt !== undefined && truncateAt > start) {
    // Send part of the body, then cut the connection as a flaky network would.
    let sent = 0;
    stream.on("data", (chunk) => {
      if (sent + chunk.length >= truncateAt - start) {
        res.write(chunk.subarray(0, truncateAt - start - sent));
        stream.destroy();
        res.socket.destroy();
        return;
      }
      sent += chunk.length;
      res.write(chunk);
    });
    stream.on("end", () => res.end());
    return;
  }
  stream.pipe(res);
}

const shaCache = new Map();
// In 64 MiB reads: a GPT-2-large-sized file (3.1 GB) is over Node's 2 GiB readFileSync limit.
function sha256(file) {
  if (!shaCache.has(file)) {
    const hash = createHash("sha256");
    const buffer = Buffer.alloc(64 << 20);
    const fd = openSync(file, "r");
    try {
      for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    shaCache.set(file, hash.digest("hex"));
  }
  return shaCache.get(file);
}

// test/<fault>-<model> -> {fault, dir}; anything else -> models/testdata/<name>, models/<name>,
// a model with its own tokenizer files from tests/fixtures/own-tokenizer/<name>, or a generated
// GPT-2-sized random model in build/bench/<name> (models/tools/random-gpt2.mjs).
function hubModel(id) {
  const m = /^test\/(?:(drop|badsize|corrupt)-)?([\w.-]+)$/.exec(id);
  if (!m) return undefined;
  for (const base of ["models/testdata", "models", "tests/fixtures/own-tokenizer", "build/bench"]) {
    const dir = join(root, base, m[2]);
    if (existsSync(join(dir, "config.json"))) return { fault: m[1], dir };
  }
  return undefined;
}

function hub(req, res, path, cors) {
  const api = /^api\/models\/([\w.-]+\/[\w.-]+)\/tree\/([\w.-]+)$/.exec(path);
  if (api) {
    const model = hubModel(api[1]);
    if (!model) {
      res.writeHead(404, { "Content-Type": "application/json", ...cors });
      res.end(JSON.stringify({ error: "Repository not found" }));
      return;
    }
    const files = ["config.json", "model.safetensors", "tokenizer.json", "vocab.json", "merges.txt"];
    const entries = files.filter((name) => existsSync(join(model.dir, name))).map((name) => {
      const file = join(model.dir, name);
      const size = statSync(file).size;
      const entry = { type: "file", path: name, size };
      if (name.endsWith(".safetensors")) {
        entry.lfs = {
          oid: model.fault === "corrupt" ? "0".repeat(64) : sha256(file),
          size: model.fault === "badsize" ? size + 1000 : size,
          pointerSize: 134,
        };
      }
      return entry;
    });
    res.writeHead(200, { "Content-Type": "application/json", ...cors });
    res.end(JSON.stringify(entries));
    return;
  }
  const resolveMatch = /^([\w.-]+\/[\w.-]+)\/resolve\/([\w.-]+)\/(.+)$/.exec(path);
  const model = resolveMatch && hubModel(resolveMatch[1]);
  if (!model) {
    res.writeHead(404, { "Content-Type": "text/plain", ...cors });
    res.end("Entry not found");
    return;
  }
  const file = safeJoin(model.dir, resolveMatch[3]);
  let truncateAt;
  if (model.fault === "drop" && file.endsWith(".safetensors") && !dropped.has(resolveMatch[1])) {
    dropped.add(resolveMatch[1]);
    truncateAt = Math.floor(statSync(file).size / 2);
  }
  sendFile(req, res, file, cors, { truncateAt });
}

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  const path = url.pathname;
  const cors = { "Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges" };
  if (req.method === "OPTIONS") {
    res.writeHead(204, { ...cors, "Access-Control-Allow-Headers": "Range", "Access-Control-Allow-Methods": "GET, HEAD" });
    res.end();
    return;
  }
  if (path === "/__reset") {
    dropped.clear();
    hubLog.length = 0;
    hubOffline = false;
    res.writeHead(200, cors);
    res.end("ok");
    return;
  }
  if (path === "/__hub-offline") {
    hubOffline = true;
    res.writeHead(200, cors);
    res.end("ok");
    return;
  }
  if (path === "/__hub-log") {
    res.writeHead(200, { "Content-Type": "application/json", ...cors });
    res.end(JSON.stringify(hubLog));
    return;
  }
  if (path.startsWith("/hub/")) {
    hubLog.push({ path: path.slice(5), range: req.headers.range ?? null, refused: hubOffline });
    if (hubOffline) return req.socket.destroy();
    return hub(req, res, path.slice(5), cors);
  }
  if (path.startsWith("/repo/")) {
    const rel = path.slice(6);
    if (!REPO_DIRS.some((d) => rel.startsWith(`${d}/`))) {
      res.writeHead(403, cors);
      res.end("forbidden");
      return;
    }
    const isolation = ISOLATED_REPO_DIRS.some((d) => rel.startsWith(`${d}/`))
      ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } : {};
    return sendFile(req, res, safeJoin(root, rel), { ...cors, ...isolation });
  }
  const isolated = !path.startsWith("/plain/");
  const rel = isolated ? path : path.slice("/plain".length);
  const headers = isolated
    ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", ...cors }
    : cors;
  const file = safeJoin(dist, rel.endsWith("/") ? `${rel}index.html` : rel);
  sendFile(req, res, file, headers);
});

server.listen(port, "127.0.0.1", () => console.log(`hooklab test server: http://127.0.0.1:${port}/ (dist ${dist})`));
