import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addAdminApi, type AdminSources, Router } from "../../src/http/index.ts";
import { openApiOf, openApiPath } from "../../src/http/api/openapi.ts";

/** Every `$ref` in a document, with where it was found. */
function refs(value: unknown, at = "#"): Array<[string, string]> {
  if (value === null || typeof value !== "object") return [];
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === "$ref" && typeof v === "string") out.push([at, v]);
    else out.push(...refs(v, `${at}/${k}`));
  }
  return out;
}

function resolve(doc: Record<string, unknown>, ref: string): unknown {
  return ref
    .slice(2)
    .split("/")
    .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], doc);
}

describe("the admin API's OpenAPI description", () => {
  // Building the routes reads no source: the handlers are never called here.
  const router = addAdminApi(new Router(), { adminToken: null, hidePayloads: false } as AdminSources);
  const doc = openApiOf(router.routes);

  it("describes every /api route served, each with its path parameters, answers and security", () => {
    assert.equal(doc["openapi"], "3.1.0");
    const info = doc["info"] as Record<string, unknown>;
    assert.equal(typeof info["title"], "string");
    assert.match(String(info["version"]), /^\d+\.\d+\.\d+/);
    const paths = doc["paths"] as Record<string, Record<string, Record<string, unknown>>>;
    const apiRoutes = router.routes.filter((r) => r.path.startsWith("/api"));
    assert.ok(apiRoutes.length >= 18, `${apiRoutes.length} routes`);
    const ids = new Set<string>();
    for (const r of apiRoutes) {
      assert.ok(r.doc !== undefined, `${r.method} ${r.path} has a description in API_DOCS`);
      const op = paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
      assert.ok(op !== undefined, `${r.method} ${r.path} is in the document`);
      assert.equal(typeof op["summary"], "string");
      const id = String(op["operationId"]);
      assert.match(id, /^[a-zA-Z]+$/);
      assert.ok(!ids.has(id), `operationId ${id} is unique`);
      ids.add(id);
      const params = (op["parameters"] ?? []) as Array<Record<string, unknown>>;
      for (const m of openApiPath(r.path).matchAll(/\{(\w+)\}/g)) {
        const p = params.find((x) => x["name"] === m[1] && x["in"] === "path");
        assert.equal(p?.["required"], true, `${r.path}: path parameter ${m[1]} declared and required`);
      }
      for (const p of params) assert.ok(["path", "query"].includes(String(p["in"])));
      const responses = op["responses"] as Record<string, unknown>;
      assert.ok(
        Object.keys(responses).some((code) => /^2\d\d$/.test(code)),
        `${r.path} has a success answer`,
      );
      if (r.method !== "GET") {
        assert.deepEqual(op["security"], [{ adminToken: [] }], `${r.method} ${r.path} needs the token`);
        assert.ok("403" in responses);
      }
    }
    for (const [at, ref] of refs(doc)) assert.ok(resolve(doc, ref) !== undefined, `${at}: ${ref} resolves`);
    const schemes = (doc["components"] as Record<string, Record<string, unknown>>)["securitySchemes"]!;
    assert.deepEqual(schemes["adminToken"], { type: "http", scheme: "bearer" });
    assert.ok(
      "text/event-stream" in
        (paths["/api/events"]!["get"]!["responses"] as Record<string, { content: object }>)["200"]!.content,
    );
  });

  it("turns route patterns into OpenAPI paths", () => {
    assert.equal(openApiPath("/api/jobs/:id/retry"), "/api/jobs/{id}/retry");
    assert.equal(openApiPath("/api/jobs/bulk/:action"), "/api/jobs/bulk/{action}");
  });
});
