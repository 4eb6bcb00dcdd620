// The /docs page of the façade (see openapi.hpp): one self-contained HTML
// document with inline CSS and JavaScript. It fetches /openapi.json from
// the same origin, lists the operations by tag with their parameters,
// request bodies, responses and schemas, and lets the user send GET
// requests (responses are read as a stream, so SSE routes show their events
// as they arrive). Everything is built with DOM calls and textContent: no
// text from the document is ever parsed as HTML.

#include "bridges/http/openapi.hpp"

namespace distiller::http {

namespace {

constexpr std::string_view page = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Distiller API</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d1f21;
         background: #f6f7f9; }
  header { background: #1f2933; color: #fff; padding: 14px 24px; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; color: #cbd2d9; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
  h2 { font-size: 16px; text-transform: uppercase; letter-spacing: .05em;
       color: #52606d; margin: 24px 0 8px; }
  details.op { background: #fff; border: 1px solid #d9dee3; border-radius: 6px;
               margin: 6px 0; }
  details.op > summary { cursor: pointer; padding: 8px 12px; list-style: none;
                         display: flex; gap: 12px; align-items: baseline; }
  .verb { font: bold 12px monospace; padding: 2px 8px; border-radius: 4px;
          color: #fff; min-width: 44px; text-align: center; }
  .get { background: #2f80ed; } .post { background: #27ae60; }
  .put { background: #f2994a; } .delete { background: #eb5757; }
  .patch { background: #9b51e0; } .other { background: #828282; }
  .path { font-family: monospace; font-weight: bold; }
  .summary { color: #52606d; }
  .undoc { color: #c0392b; font-size: 12px; }
  .body { padding: 4px 16px 12px; border-top: 1px solid #eef0f2; }
  table { border-collapse: collapse; width: 100%; margin: 6px 0; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef0f2;
           vertical-align: top; }
  th { color: #52606d; font-weight: 600; }
  pre { background: #f0f2f5; padding: 8px; border-radius: 4px; overflow: auto;
        margin: 4px 0; white-space: pre-wrap; word-break: break-word; }
  .try input { font: 13px monospace; padding: 3px 6px; width: 260px; }
  .try button { margin: 6px 6px 0 0; }
  .status { font-weight: bold; }
  #error { color: #c0392b; }
</style>
</head>
<body>
<header><h1 id="title">API</h1><p id="subtitle"></p></header>
<main><p id="error"></p><div id="ops">Loading /openapi.json…</div>
<h2>Schemas</h2><div id="schemas"></div></main>
<script>
"use strict";
let spec = null;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const kid of kids) {
    if (kid === null || kid === undefined) continue;
    e.append(kid instanceof Node ? kid : String(kid));
  }
  return e;
}

function refName(ref) { return ref.split("/").pop(); }

function resolve(schema) {
  if (schema && schema.$ref && spec.components && spec.components.schemas)
    return spec.components.schemas[refName(schema.$ref)] || schema;
  return schema;
}

// A schema as indented, TypeScript-like text.
function schemaText(schema, indent, seen) {
  indent = indent || "";
  seen = seen || [];
  if (!schema) return "any";
  if (schema.$ref) {
    const name = refName(schema.$ref);
    if (seen.includes(name)) return name;
    return name + " " + schemaText(resolve(schema), indent, seen.concat([name]));
  }
  if (schema.enum) return schema.enum.map(x => JSON.stringify(x)).join(" | ");
  if (schema.type === "array")
    return "[" + schemaText(schema.items, indent, seen) + "]";
  if (schema.type === "object" || schema.properties) {
    const props = schema.properties || {};
    const req = schema.required || [];
    const inner = indent + "  ";
    let out = "{\n";
    for (const [k, v] of Object.entries(props)) {
      out += inner + k + (req.includes(k) ? "" : "?") + ": " +
             schemaText(v, inner, seen);
      if (v.description) out += "  // " + v.description;
      out += "\n";
    }
    if (schema.additionalProperties)
      out += inner + "[key]: " +
             schemaText(schema.additionalProperties, inner, seen) + "\n";
    return out + indent + "}";
  }
  let t = schema.type || "any";
  if (schema.format) t += " (" + schema.format + ")";
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    t += " [" + (schema.minimum ?? "") + ".." + (schema.maximum ?? "") + "]";
  if (schema.default !== undefined) t += " = " + JSON.stringify(schema.default);
  return t;
}

function contentBlock(content) {
  const box = el("div");
  for (const [type, media] of Object.entries(content || {})) {
    box.append(el("div", {}, el("code", {}, type)));
    if (media.schema) box.append(el("pre", {}, schemaText(media.schema)));
  }
  return box;
}

function paramsTable(params) {
  const t = el("table", {},
    el("tr", {}, el("th", {}, "name"), el("th", {}, "in"),
       el("th", {}, "type"), el("th", {}, "description")));
  for (const p of params)
    t.append(el("tr", {},
      el("td", {}, el("code", {}, p.name), p.required ? " *" : ""),
      el("td", {}, p.in),
      el("td", {}, schemaText(p.schema)),
      el("td", {}, p.description || "")));
  return t;
}

function tryPanel(path, params) {
  const box = el("div", {class: "try"}, el("h4", {}, "Try it"));
  const inputs = {};
  for (const p of params) {
    if (p.in !== "path" && p.in !== "query") continue;
    const input = el("input", {placeholder: p.in + (p.required ? ", required" : "")});
    if (p.schema && p.schema.default !== undefined) input.value = p.schema.default;
    inputs[p.name] = {param: p, input};
    box.append(el("div", {}, el("label", {}, el("code", {}, p.name), " "), input));
  }
  const out = el("pre", {}, "");
  const status = el("div", {class: "status"});
  let controller = null;
  const send = el("button", {}, "Send");
  const stop = el("button", {}, "Stop");
  stop.disabled = true;
  send.onclick = async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const [name, {param, input}] of Object.entries(inputs)) {
      if (param.in === "path")
        url = url.replace("{" + name + "}", encodeURIComponent(input.value));
      else if (input.value !== "") query.set(name, input.value);
    }
    const qs = query.toString();
    if (qs) url += "?" + qs;
    controller = new AbortController();
    send.disabled = true; stop.disabled = false;
    out.textContent = ""; status.textContent = "GET " + url + " …";
    try {
      const res = await fetch(url, {signal: controller.signal});
      status.textContent = "GET " + url + " → " + res.status + " " +
                           (res.headers.get("content-type") || "");
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        out.textContent += decoder.decode(value, {stream: true});
      }
      if ((res.headers.get("content-type") || "").startsWith("application/json")) {
        try { out.textContent = JSON.stringify(JSON.parse(out.textContent), null, 2); }
        catch (e) { /* keep the raw text */ }
      }
    } catch (e) {
      if (e.name !== "AbortError") status.textContent = "failed: " + e;
    }
    send.disabled = false; stop.disabled = true;
  };
  stop.onclick = () => { if (controller) controller.abort(); };
  box.append(el("div", {}, send, stop), status, out);
  return box;
}

function operation(path, method, op) {
  const verbClass = ["get", "post", "put", "delete", "patch"].includes(method)
                    ? method : "other";
  const d = el("details", {class: "op"},
    el("summary", {},
      el("span", {class: "verb " + verbClass}, method.toUpperCase()),
      el("span", {class: "path"}, path),
      el("span", {class: "summary"}, op.summary || ""),
      op["x-undocumented"] ? el("span", {class: "undoc"}, "not described") : null));
  const body = el("div", {class: "body"});
  if (op.description) body.append(el("p", {}, op.description));
  const params = op.parameters || [];
  if (params.length) body.append(el("h4", {}, "Parameters"), paramsTable(params));
  if (op.requestBody) {
    body.append(el("h4", {}, "Request body" +
                   (op.requestBody.required ? " (required)" : "")));
    if (op.requestBody.description) body.append(el("p", {}, op.requestBody.description));
    body.append(contentBlock(op.requestBody.content));
  }
  body.append(el("h4", {}, "Responses"));
  const t = el("table", {});
  for (const [code, r] of Object.entries(op.responses || {}))
    t.append(el("tr", {}, el("td", {}, el("b", {}, code)),
                el("td", {}, r.description || "", contentBlock(r.content))));
  body.append(t);
  if (method === "get") body.append(tryPanel(path, params));
  d.append(body);
  return d;
}

function render() {
  document.getElementById("title").textContent =
    spec.info.title + " " + spec.info.version;
  document.getElementById("subtitle").textContent = spec.info.description || "";
  const groups = {};
  for (const [path, item] of Object.entries(spec.paths || {}))
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      (groups[tag] = groups[tag] || []).push([path, method, op]);
    }
  const ops = document.getElementById("ops");
  ops.textContent = "";
  for (const tag of Object.keys(groups).sort()) {
    ops.append(el("h2", {}, tag));
    for (const [path, method, op] of groups[tag]) ops.append(operation(path, method, op));
  }
  const schemas = document.getElementById("schemas");
  for (const [name, s] of Object.entries((spec.components || {}).schemas || {}))
    schemas.append(el("details", {class: "op"},
      el("summary", {}, el("span", {class: "path"}, name)),
      el("div", {class: "body"}, el("pre", {}, schemaText(s, "", [name])))));
}

fetch("/openapi.json")
  .then(r => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
  .then(doc => { spec = doc; render(); })
  .catch(e => {
    document.getElementById("ops").textContent = "";
    document.getElementById("error").textContent = "Cannot load /openapi.json: " + e;
  });
</script>
</body>
</html>
)HTML";

} // namespace

std::string_view docs_page_html() {
  return page;
}

} // namespace distiller::http
