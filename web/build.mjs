// Builds the web pages into ../query/web/static, which the API serves at /static (never committed).
// `npm ci && npm run build`; deploy/bootstrap.sh runs it when a source is newer than the build.
import { build } from "esbuild";
import { copyFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const served = join(here, "..", "query", "web", "static");
// Built beside the served folder and swapped in at the end, so a running server never serves half a build.
const out = `${served}.next`;
const pages = ["batch", "recall", "home", "docs"];

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [...pages.map((p) => join(here, "src", `${p}.js`)), join(here, "src", "app.css")],
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});
// Files the pages fetch or load as they are: the map's geometry, Swagger UI's own bundle.
const copies = [
  ["world-atlas/countries-110m.json", "countries-110m.json"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui.css"],
  ["swagger-ui-dist/LICENSE", "swagger-ui.LICENSE.txt"],
  ["world-atlas/LICENSE", "world-atlas.LICENSE.txt"],
];
for (const [from, to] of copies) await copyFile(join(here, "node_modules", from), join(out, to));
const sizes = Object.fromEntries(Object.entries(result.metafile.outputs).map(([f, o]) => [f.split("/").pop(), o.bytes]));
await writeFile(join(out, "build.json"), JSON.stringify({ built: new Date().toISOString(), sizes }, null, 1));
await rm(served, { recursive: true, force: true });
await rename(out, served);
console.log(`web: built ${Object.keys(sizes).filter((f) => !f.endsWith(".map")).length} files into query/web/static`);
