// Apollo Client (v4) and urql, configured as their documentation says and otherwise unchanged, run the
// app's operations against a production-mode server, where only trusted (persisted) documents run.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { ApolloClient, HttpLink, InMemoryCache, gql as apolloGql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { addTypenameToDocument } from "@apollo/client/utilities";
import { printExecutableGraphQLDocument } from "@graphql-tools/documents";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { Client, cacheExchange, fetchExchange, gql as urqlGql } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";

import { OPERATIONS, ROOT, startProductionServer } from "./server.mjs";

const MANIFEST = join(ROOT, "mobile_contract", "persisted-query-manifest.json");
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const operation = (name) => readFileSync(join(OPERATIONS, `${name}.graphql`), "utf8");
const variables = (name) => {
  try {
    return JSON.parse(readFileSync(join(OPERATIONS, `${name}.variables.json`), "utf8"));
  } catch {
    return {};
  }
};
// The demo citizen's read-only screens; each must answer with data and no error.
const QUERIES = ["ProcedureCatalogue", "ProcedureDetail", "HomeScreen", "MyDossiers", "DossierDetail", "Wallet",
  "NotificationSettings"];
const AD_HOC = "query NotTrusted { procedures(first: 1) { edges { node { code } } } }";

let server;
before(async () => { server = await startProductionServer(); });
after(async () => { await server?.stop(); });

// What each request carried: the JSON body of a POST, or the query parameters of a GET.
function recordingFetch(sent) {
  return async (url, init) => {
    if (init.body) {
      sent.push(JSON.parse(init.body));
    } else {
      const params = new URL(url).searchParams;
      sent.push({ query: params.get("query") ?? undefined, extensions: JSON.parse(params.get("extensions") ?? "{}") });
    }
    return fetch(url, init);
  };
}

function apollo(options, sent) {
  const http = new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${server.token}` },
    fetch: recordingFetch(sent) });
  return new ApolloClient({ link: new PersistedQueryLink(options).concat(http), cache: new InMemoryCache() });
}

describe("Apollo Client", () => {
  test("hashing each document itself (the default set-up) runs every screen by hash", async () => {
    const sent = [];
    const client = apollo({ sha256 }, sent);
    for (const name of QUERIES) {
      const { data, error } = await client.query({ query: apolloGql(operation(name)), variables: variables(name),
        fetchPolicy: "network-only" });
      assert.equal(error, undefined, `${name}: ${error}`);
      assert.ok(Object.values(data).every((v) => v !== null), name);
    }
    assert.equal(sent.length, QUERIES.length, "one request per operation: no miss, no resend");
    assert.ok(sent.every((body) => body.query === undefined && body.extensions.persistedQuery.sha256Hash));
  });

  test("ids from the persisted query manifest (@apollo/persisted-query-lists) run every screen", async () => {
    const manifest = JSON.parse(readFileSync(MANIFEST, "utf8"));
    const sent = [];
    const client = apollo(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }), sent);
    const { data } = await client.query({ query: apolloGql(operation("ProcedureCatalogue")),
      variables: variables("ProcedureCatalogue") });
    assert.ok(data.procedures.edges.length > 0);
    assert.equal(sent.length, 1);
  });

  test("a document outside the trusted list is refused after the link's documented fallback", async () => {
    const sent = [];
    const client = apollo({ sha256 }, sent);
    const { error } = await client.query({ query: apolloGql(AD_HOC), errorPolicy: "all" });
    assert.ok(error, "an error");
    assert.deepEqual(sent.map((b) => b.query === undefined), [true, false], "hash first, then the text");
    assert.match(JSON.stringify(error), /PERSISTED_QUERY_REQUIRED/);
  });
});

describe("App versions (Apollo's client awareness)", () => {
  function named(version) {
    const http = new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${server.token}` } });
    return new ApolloClient({ clientAwareness: { name: "dichvucong-android", version },
      link: new PersistedQueryLink({ sha256 }).concat(http), cache: new InMemoryCache() });
  }

  test("an app below its platform's minimum gets APP_UPDATE_REQUIRED with the store link; a current one is served",
    async () => {
      const ask = (client) => client.query({ query: apolloGql(operation("ProcedureCatalogue")),
        variables: variables("ProcedureCatalogue"), errorPolicy: "all", fetchPolicy: "network-only" });
      const old = await ask(named("1.9.0"));
      assert.equal(old.data, undefined);
      const text = JSON.stringify(old.error);
      assert.match(text, /APP_UPDATE_REQUIRED/);
      assert.match(text, /"minimumVersion":"2\.0\.0"/);
      assert.match(text, /"storeUrl":"https:\/\/play\.google\.com\//);
      const current = await ask(named("2.0.0"));
      assert.equal(current.error, undefined, `${current.error}`);
      assert.ok(current.data.procedures.edges.length > 0);
    });
});

describe("urql", () => {
  function urql(sent) {
    return new Client({
      url: server.url,
      fetch: recordingFetch(sent),
      fetchOptions: { headers: { authorization: `Bearer ${server.token}` } },
      exchanges: [cacheExchange, persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
    });
  }

  test("@urql/exchange-persisted runs every screen by hash", async () => {
    const sent = [];
    const client = urql(sent);
    for (const name of QUERIES) {
      const result = await client.query(urqlGql(operation(name)), variables(name)).toPromise();
      assert.equal(result.error, undefined, `${name}: ${result.error}`);
      assert.ok(Object.values(result.data).every((v) => v !== null), name);
    }
    assert.equal(sent.length, QUERIES.length, "one request per operation: no miss, no resend");
    assert.ok(sent.every((body) => body.query === undefined));
  });

  test("a miss is recognised (PersistedQueryNotFound) and the text is sent, then refused", async () => {
    const sent = [];
    const result = await urql(sent).query(urqlGql(AD_HOC), {}).toPromise();
    assert.deepEqual(sent.map((b) => b.query === undefined), [true, false], "hash first, then the text");
    assert.deepEqual(result.error.graphQLErrors.map((e) => e.extensions.code), ["PERSISTED_QUERY_REQUIRED"]);
  });
});

describe("graphql-codegen", () => {
  // The client preset's `persistedDocuments` hashes printExecutableGraphQLDocument (@graphql-tools/documents)
  // of each document, with or without its addTypename document transform, and sends `documentId`.
  test("its persisted-document hashes run every screen, with and without __typename", async () => {
    for (const name of QUERIES) {
      for (const document of [parse(operation(name)), addTypenameToDocument(parse(operation(name)))]) {
        const hash = sha256(printExecutableGraphQLDocument(document));
        const response = await fetch(server.url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${server.token}` },
          body: JSON.stringify({ documentId: `sha256:${hash}`, variables: variables(name) }),
        });
        const body = await response.json();
        assert.equal(body.errors, undefined, `${name}: ${JSON.stringify(body.errors)}`);
        assert.ok(Object.values(body.data).every((v) => v !== null), name);
      }
    }
  });
});
