// The committed Apollo-format manifest (written by `superapp contract build`) is exactly what Apollo's own
// generator writes from mobile_contract/operations/, and lists every operation.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { OPERATIONS, ROOT } from "./server.mjs";

const MANIFEST = join(ROOT, "mobile_contract", "persisted-query-manifest.json");

test("the committed manifest is what @apollo/generate-persisted-query-manifest writes", () => {
  const dir = mkdtempSync(join(tmpdir(), "superapp-manifest-"));
  try {
    const config = join(dir, "config.json");
    const output = join(dir, "persisted-query-manifest.json");
    writeFileSync(config, JSON.stringify({ documents: [join(OPERATIONS, "*.graphql")], output }));
    execFileSync(join(import.meta.dirname, "node_modules", ".bin", "generate-persisted-query-manifest"),
      ["--config", config], { stdio: "ignore" });
    assert.equal(readFileSync(MANIFEST, "utf8"), readFileSync(output, "utf8"),
      "mobile_contract/persisted-query-manifest.json is stale: run `superapp contract build`");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every operation file is in the manifest", () => {
  const manifest = JSON.parse(readFileSync(MANIFEST, "utf8"));
  const names = readdirSync(OPERATIONS).filter((f) => f.endsWith(".graphql")).map((f) => f.replace(".graphql", ""));
  assert.deepEqual(manifest.operations.map((o) => o.name).sort(), names.sort());
});
