#pragma once

/// The web page of a node: a plain HTML/CSS/JS application (no framework, no
/// build step, no external resources) for both pipelines — document upload
/// with live progress, the job list and questions; thoughts with their five
/// agent steps streamed live — served from bytes embedded in the binary
/// (static_assets.hpp):
///
///   GET /            → index.html
///   GET /ui/{file}   → one asset (app.js, app.css, …); 404 JSON when unknown
///
/// HEAD works on both (the router serves it from GET). Every answer carries
/// `Cache-Control: no-cache` and a strong `ETag` (a matching `If-None-Match`
/// gets `304` without a body), `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: no-referrer` and the `Content-Security-Policy` below,
/// which the page is written to satisfy (no inline script or style, no
/// eval, no other origin).
///
/// Threads: the handlers answer synchronously on the I/O thread from
/// immutable data. Ownership: the routes share `api` (may be null: then
/// nothing is described).
/// Failure: `add` throws std::invalid_argument when the routes are already
/// registered on `r` (a wiring mistake).

#include <memory>
#include <string_view>

namespace distiller::http {
class openapi_spec;
class router;
} // namespace distiller::http

namespace distiller::web {

/// The Content-Security-Policy sent with the page and its assets.
inline constexpr std::string_view content_security_policy =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

/// Registers `GET /` and `GET /ui/{file}` on `r` and describes them in `api`.
void add_web_routes(http::router& r, std::shared_ptr<http::openapi_spec> api);

/// True when the If-None-Match header value `if_none_match` matches `etag`
/// (weak comparison, "*" matches anything); exposed for tests.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

} // namespace distiller::web
