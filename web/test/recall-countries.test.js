// Numeric ISO 3166-1 codes (the map's geometry) to alpha-2 codes (the API's).
//
// The module imports i18n-iso-countries/codes.json without an import attribute, which only esbuild
// accepts (Node 20 asks for `with { type: "json" }`), so it is tested as esbuild bundles it for the page.
import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const modulePath = fileURLToPath(new URL("../src/recall-countries.js", import.meta.url));
let alpha2Of;

before(async () => {
  const result = await build({
    entryPoints: [modulePath], bundle: true, format: "esm", platform: "node", write: false, logLevel: "silent",
  });
  const source = Buffer.from(result.outputFiles[0].contents).toString("base64");
  ({ alpha2Of } = await import(`data:text/javascript;base64,${source}`));
});

describe("alpha2Of", () => {
  // ISO 3166-1: the numeric code and the alpha-2 code of a few countries.
  const KNOWN = [["276", "DE"], ["840", "US"], ["250", "FR"], ["392", "JP"], ["076", "BR"], ["004", "AF"]];

  test("a numeric code as the geometry writes it maps to its country's alpha-2 code", () => {
    for (const [numeric, alpha2] of KNOWN) assert.equal(alpha2Of(numeric), alpha2, numeric);
  });

  test("a numeric code given as a number, without leading zeros, maps the same", () => {
    for (const [numeric, alpha2] of KNOWN) assert.equal(alpha2Of(Number(numeric)), alpha2, numeric);
  });

  test("every country in the package's code table maps to its own alpha-2 code", async () => {
    const table = createRequire(import.meta.url).resolve("i18n-iso-countries/codes.json");
    const codes = JSON.parse(await readFile(table, "utf8"));
    assert.ok(codes.length > 200);
    for (const [alpha2, , numeric] of codes) assert.equal(alpha2Of(numeric), alpha2, numeric);
  });

  test("a code no country has maps to the empty string", () => {
    for (const unknown of ["999", 0, "000", "abc"]) assert.equal(alpha2Of(unknown), "", String(unknown));
  });

  test("no code at all maps to the empty string", () => {
    assert.equal(alpha2Of(undefined), "");
    assert.equal(alpha2Of(null), "");
    assert.equal(alpha2Of(""), "");
  });
});
