// tus-js-client, configured as its documentation says, uploads an attachment to /uploads/ of a
// production-mode server: cut part-way (the app killed, a 2G link gone), a new Upload with the stored URL
// asks HEAD where the server stands and resumes from there, and the file the server keeps is byte-identical.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import * as tus from "tus-js-client";

import { startProductionServer } from "./server.mjs";

let server;
before(async () => { server = await startProductionServer(); });
after(async () => { await server?.stop(); });

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

function jpeg(size) {
  const head = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

function upload(file, options, seen) {
  return new tus.Upload(file, {
    endpoint: server.url.replace(/\/graphql$/, "/uploads/"),
    chunkSize: 64 * 1024,
    retryDelays: [0, 200, 500],
    headers: { Authorization: `Bearer ${server.token}` },
    metadata: { filename: "giay-khai-sinh.jpg", filetype: "image/jpeg" },
    onBeforeRequest: (req) => { seen.push(req.getMethod()); },
    ...options,
  });
}

test("tus-js-client uploads, is cut, resumes after HEAD, and the file is byte-identical", async () => {
  const file = jpeg(400_000);
  const first = [];
  let cutAt = 0;
  const location = await new Promise((resolve, reject) => {
    const cut = upload(file, {
      onChunkComplete: (_chunk, accepted) => {
        if (accepted >= 128 * 1024 && !cutAt) {
          cutAt = accepted;
          cut.abort().then(() => resolve(cut.url), reject);
        }
      },
      onError: reject,
      onSuccess: () => reject(new Error("the upload was not cut")),
    }, first);
    cut.start();
  });
  assert.ok(location.includes("/uploads/"), location);
  assert.deepEqual(first.slice(0, 2), ["POST", "PATCH"]);

  const second = [];
  let resumedFrom = -1;
  await new Promise((resolve, reject) => {
    const resumed = upload(file, {
      uploadUrl: location,
      onProgress: (sent) => { if (resumedFrom < 0) resumedFrom = sent; },
      onError: reject,
      onSuccess: resolve,
    }, second);
    resumed.start();
  });
  assert.equal(second[0], "HEAD");
  assert.ok(!second.includes("POST"), second.join(","));
  assert.ok(resumedFrom >= cutAt, `resumed from ${resumedFrom}, cut at ${cutAt}`);

  const stored = await fetch(location, { headers: { Authorization: `Bearer ${server.token}`, "Tus-Resumable": "1.0.0" } });
  assert.equal(stored.status, 200);
  assert.equal(stored.headers.get("content-type"), "image/jpeg");
  assert.equal(sha256(Buffer.from(await stored.arrayBuffer())), sha256(file));
});

test("tus-js-client gets the typed refusal of a file that is not a photo or a PDF", async () => {
  const program = Buffer.concat([Buffer.from("MZ\x90\x00", "latin1"), Buffer.alloc(20_000)]);
  const error = await new Promise((resolve, reject) => {
    upload(program, { retryDelays: [], onError: resolve, onSuccess: () => reject(new Error("accepted")) }, []).start();
  });
  assert.equal(error.originalResponse.getStatus(), 415);
  assert.equal(JSON.parse(error.originalResponse.getBody()).errors[0].extensions.code, "UPLOAD_TYPE_NOT_ALLOWED");
});
