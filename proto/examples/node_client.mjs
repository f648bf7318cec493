// SPDX-License-Identifier: MIT
// A minimal xsell client in JavaScript (Node 18+, no packages): JSON over
// the HTTP API of `xselld --http` or `xsell-gateway` (proto/HTTP.md).
//
//   node node_client.mjs http://127.0.0.1:8080 22697 [K]
//
// Asks "frequently bought with ITEM" and prints one "item score" line per
// answer; errors come back as JSON with the HTTP status of their code.
const [base, item, k] = process.argv.slice(2);
if (!base || !item) {
  console.error("usage: node node_client.mjs BASE_URL ITEM [K]");
  process.exit(2);
}
const res = await fetch(`${base}/v1/fbt`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ items: [item], k: k ? Number(k) : 10 }),
});
const reply = await res.json();
if (!reply.ok) {
  console.error(`${res.status} ${reply.error.code}: ${reply.error.message}`);
  process.exit(1);
}
for (const it of reply.items) {
  console.log(`${it.item} ${Number(it.score.toPrecision(6))}`); // as %g
}
