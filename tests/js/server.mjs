// A production-mode (persisted-only) superapp server for the client tests: its own SQLite database in a
// temporary folder, migrated and seeded, on a free loopback port; stopped by the test.
import { execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const OPERATIONS = join(ROOT, "mobile_contract", "operations");
export const SUPERAPP = process.env.SUPERAPP_BIN ?? join(ROOT, ".venv", "bin", "superapp");

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    }).on("error", fail);
  });
}

async function until(url, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}

export async function startProductionServer() {
  const dataDir = mkdtempSync(join(tmpdir(), "superapp-js-"));
  const env = { ...process.env, SUPERAPP_DATA_DIR: dataDir, SUPERAPP_ENV: "development", SUPERAPP_LOG_LEVEL: "WARNING" };
  delete env.SUPERAPP_DATABASE_URL;
  const superapp = async (...args) => (await promisify(execFile)(SUPERAPP, args, { env })).stdout;
  // The demo token needs no database: it is made while the database is migrated and seeded.
  const [printed] = await Promise.all([superapp("token", "--demo"), superapp("migrate").then(() => superapp("seed"))]);
  const token = printed.trim().split("\n").pop();
  // Production needs the e-ID provider's key: a throwaway one; the demo token is signed by the dev key,
  // which this server is told to accept as well.
  const eidKey = join(dataDir, "eid-public.pem");
  writeFileSync(eidKey, generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }));
  const port = await freePort();
  const child = spawn(SUPERAPP, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    // Android apps below 2.0.0 are refused (the other tests send no client-awareness headers: unknown apps, served),
    // and a receipt-signing key (a throwaway one, as SUPERAPP_SIGNING_KEYS expects: kid:seed)
    env: { ...env, SUPERAPP_ENV: "production", SUPERAPP_EID_PUBLIC_KEY_FILE: eidKey, SUPERAPP_EID_ACCEPT_DEV_KEY: "true",
      SUPERAPP_APP_MIN_VERSION_ANDROID: "2.0.0", SUPERAPP_SIGNING_KEYS: `js-1:${randomBytes(32).toString("base64url")}` },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (chunk) => { log = (log + chunk).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(`${url}/healthz`, 30);
  } catch (error) {
    child.kill();
    throw new Error(`${error.message}\n${log}`);
  }
  return {
    url: `${url}/graphql`,
    token,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
