// Vite build of the lab (index.html, the embed script) and, for tests and benchmarks only, the
// engine harness (harness.html: `npm run build:web:harness`, HOOKLAB_HARNESS=1). The wasm core (build/wasm) and the bundled models are served from wasm/ and
// models/ next to the pages, unhashed, because the Emscripten glue finds its .wasm and worker
// files by name.
import { build, defineConfig, type Plugin } from "vite";
import { cpSync, existsSync, mkdirSync, createReadStream, statSync } from "node:fs";
import { dirname, join, resolve, extname } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// URL prefix -> repository directory, served in development and copied into the build.
const STATIC_ASSETS: Record<string, string> = {
  "/wasm/": join(root, "build/wasm"),
  "/models/tokenizer/": join(root, "models/tokenizer"),
  "/models/hooklab-demo/": join(root, "models/hooklab-demo"),
  "/models/hooklab-induction/": join(root, "models/hooklab-induction"),
  "/models/lessons/": join(root, "models/lessons"),
};
// Files served next to index.html as they are: the service worker that makes static hosts
// cross-origin isolated must sit at the lab's directory so that its scope covers the lab.
const STATIC_FILES: Record<string, string> = {
  "/coi-serviceworker.min.js": join(root, "node_modules/coi-serviceworker/coi-serviceworker.min.js"),
};
const WASM_FILES = /^hooklab-(st|mt)\.(mjs|wasm)$|^hooklab-mt\.worker\.js$/;
const TYPES: Record<string, string> = {
  ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json",
  ".bpe": "text/plain", ".md": "text/markdown", ".safetensors": "application/octet-stream", ".jsonl": "application/json",
};

function hooklabAssets(): Plugin {
  return {
    name: "hooklab-assets",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? "").split("?")[0];
        if (STATIC_FILES[url]) {
          res.setHeader("Content-Type", "text/javascript");
          createReadStream(STATIC_FILES[url]).pipe(res);
          return;
        }
        for (const [prefix, dir] of Object.entries(STATIC_ASSETS)) {
          if (!url.startsWith(prefix)) continue;
          const file = join(dir, decodeURIComponent(url.slice(prefix.length)));
          if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) break;
          res.setHeader("Content-Type", TYPES[extname(file)] ?? "application/octet-stream");
          createReadStream(file).pipe(res);
          return;
        }
        next();
      });
    },
    writeBundle(options) {
      const out = options.dir!;
      for (const [name, file] of Object.entries(STATIC_FILES)) cpSync(file, join(out, name));
      for (const [prefix, dir] of Object.entries(STATIC_ASSETS)) {
        if (!existsSync(dir)) throw new Error(`${dir} is missing: build the wasm core first (npm run build:wasm)`);
        const target = join(out, prefix);
        mkdirSync(target, { recursive: true });
        cpSync(dir, target, {
          recursive: true,
          filter: (src) => prefix !== "/wasm/" || src === dir || WASM_FILES.test(src.slice(dir.length + 1)),
        });
      }
    },
  };
}

// The harness exposes the engine on window for Playwright and bench/: not part of the product.
const harnessInput = process.env.HOOKLAB_HARNESS === "1" ? { harness: resolve(root, "web/harness.html") } : {};

// hooklab-embed.js, built on its own as one classic script (IIFE): course pages load it from
// another origin, and module scripts from another origin need CORS headers that static hosts
// do not send.
function embedScript(): Plugin {
  return {
    name: "hooklab-embed-script",
    apply: "build",
    async closeBundle() {
      await build({
        configFile: false, logLevel: "warn",
        build: {
          outDir: resolve(root, "web/dist"), emptyOutDir: false, target: "es2022",
          lib: { entry: resolve(root, "web/src/embed/hooklab-embed.ts"), formats: ["iife"], name: "hooklabEmbed", fileName: () => "hooklab-embed.js" },
        },
      });
    },
  };
}

// Cross-origin isolation lets the engine use the pthreads build (SharedArrayBuffer).
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  root: resolve(root, "web"),
  base: "./",
  plugins: [hooklabAssets(), embedScript()],
  server: { headers: isolation, fs: { allow: [root] } },
  preview: { headers: isolation },
  worker: { format: "es" },
  build: {
    outDir: resolve(root, "web/dist"),
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      input: {
        lab: resolve(root, "web/index.html"),
        ...harnessInput,
      },
      output: { entryFileNames: "assets/[name]-[hash].js" },
    },
  },
});
