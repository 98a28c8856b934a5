// ESLint for the TypeScript lab, the browser tests and the Node scripts (`npm run lint`).
// typescript-eslint's recommended set: it catches real mistakes (floating promises are left to tsc's
// strictness; `any` is allowed where Embind hands us untyped objects, but must be explicit).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["build/**", "web/dist/**", "node_modules/**", "web/src/engine/generated/**", "test-results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The lab runs in pages and workers; tests, benchmarks and tools run in Node.
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
    },
  },
  {
    // The project's rule for the product: no function over ~80 lines (tests keep long scenarios).
    files: ["web/src/**/*.ts"],
    rules: { "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["bench/**", "scripts/**", "tests/**", "wasm/tools/**", "wasm/webgpu/*.mjs", "models/**", "core/**/*.mjs", "*.config.*"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // An Emscripten --js-library: these names exist inside the generated module, not as imports.
    files: ["wasm/webgpu/hooklab_webgpu.js"],
    languageOptions: {
      globals: { HooklabWebgpu: "writable", HEAPU8: "readonly", HEAPU32: "readonly", mergeInto: "readonly", LibraryManager: "readonly",
        UTF8ToString: "readonly", HooklabKernels: "readonly" },
    },
  },
  {
    files: ["wasm/bindings/hooklab_values.js"],
    languageOptions: { globals: { mergeInto: "readonly", LibraryManager: "readonly", Emval: "readonly", HEAPF32: "readonly", UTF8ToString: "readonly" } },
  },
);
