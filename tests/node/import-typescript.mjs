// The Node tests' one way to load the lab's TypeScript: bundled as it is (rolldown, as Vite does)
// into build/<name>-test, then imported.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { rolldown } from "rolldown";

const root = new URL("../..", import.meta.url).pathname;

/** Bundles `entry` (a path from the repository root) and imports it. */
export async function importTypeScript(entry, name) {
  const out = join(root, `build/${name}-test`);
  const bundle = await rolldown({ input: { [name]: join(root, entry) }, platform: "node", logLevel: "silent" });
  await bundle.write({ dir: out, format: "esm", entryFileNames: "[name].mjs" });
  return import(pathToFileURL(join(out, `${name}.mjs`)).href);
}
