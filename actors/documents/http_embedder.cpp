#include "actors/documents/http_embedder.hpp"

#include <cctype>
#include <cmath>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>

#include "actors/documents/text/utf8.hpp"
#include "runtime/core/resolve.hpp"

namespace distiller::documents {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t max_response_bytes = 256ull * 1024 * 1024;
constexpr size_t excerpt_bytes = 200;

/// The start of a response body for an error message: one line, valid
/// UTF-8, at most `excerpt_bytes`.
std::string excerpt(std::string_view body) {
  const bool cut = body.size() > excerpt_bytes;
  std::string text =
      utf8::sanitize(body.substr(0, utf8::floor_boundary(body, excerpt_bytes)));
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  if (text.empty())
    return "(empty body)";
  return cut ? text + "…" : text;
}

bool retryable_status(unsigned status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

bool is_blank(const std::string& s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c)))
      return false;
  return true;
}

} // namespace

http_embedder::http_embedder(http_embedder_config config)
    : config_(std::move(config)), dimension_(config_.dimension) {
  std::string_view url = config_.url;
  if (url.starts_with("https://"))
    throw std::invalid_argument(
        "embedder.url: https:// is not supported, use an http:// endpoint (a "
        "local TLS-terminating proxy for remote services)");
  if (!url.starts_with("http://"))
    throw std::invalid_argument("embedder.url must start with http:// (got \"" +
                                config_.url + "\")");
  url.remove_prefix(7);
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string path(slash == std::string_view::npos ? "" : url.substr(slash));
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  std::string_view host = authority;
  std::string_view port = "80";
  if (authority.starts_with('[')) { // [::1]:8080
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      throw std::invalid_argument("embedder.url: unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (const size_t colon = authority.rfind(':');
             colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty())
    throw std::invalid_argument("embedder.url has no host (got \"" +
                                config_.url + "\")");
  if (port.empty() || port.find_first_not_of("0123456789") != port.npos ||
      port.size() > 5 || std::stoul(std::string(port)) > 65535)
    throw std::invalid_argument("embedder.url has an invalid port (got \"" +
                                config_.url + "\")");
  if (config_.model.empty())
    throw std::invalid_argument("embedder.model must not be empty");
  if (config_.timeout.count() <= 0)
    throw std::invalid_argument("embedder.timeout must be positive");
  if (config_.max_batch == 0)
    throw std::invalid_argument("embedder.max_batch must be greater than 0");
  host_ = std::string(host);
  port_ = std::string(port);
  target_ =
      path.ends_with("/v1") ? path + "/embeddings" : path + "/v1/embeddings";
  const bool v6 = host_.find(':') != std::string::npos;
  endpoint_ =
      "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + port_ + target_;
}

std::string http_embedder::model() const {
  return config_.model;
}

size_t http_embedder::dimension() const {
  if (size_t known = dimension_.load())
    return known;
  const std::string probe = "dimension probe";
  embed_batch({&probe}); // learns the dimension as a side effect
  return dimension_.load();
}

std::vector<std::vector<float>>
http_embedder::embed(const std::vector<std::string>& texts) {
  std::vector<std::vector<float>> out(texts.size());
  std::vector<size_t> positions; // of the texts in the current batch
  std::vector<const std::string*> batch;
  auto flush = [&] {
    if (batch.empty())
      return;
    auto vectors = embed_batch(batch);
    for (size_t i = 0; i < vectors.size(); ++i)
      out[positions[i]] = std::move(vectors[i]);
    batch.clear();
    positions.clear();
  };
  bool any_blank = false;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (is_blank(texts[i])) {
      any_blank = true;
      continue;
    }
    batch.push_back(&texts[i]);
    positions.push_back(i);
    if (batch.size() == config_.max_batch)
      flush();
  }
  flush();
  if (any_blank) {
    const size_t dim = dimension();
    for (auto& v : out)
      if (v.empty())
        v.assign(dim, 0.0f);
  }
  return out;
}

std::vector<std::vector<float>>
http_embedder::embed_batch(const std::vector<const std::string*>& texts) const {
  json::array input;
  input.reserve(texts.size());
  for (auto* text : texts)
    input.emplace_back(utf8::sanitize(*text)); // JSON strings must be UTF-8
  json::object request;
  request["model"] = config_.model;
  request["input"] = std::move(input);
  auto reply = post(json::serialize(request));
  if (reply.status != 200) {
    throw embed_error("embedder " + endpoint_ + " answered HTTP " +
                          std::to_string(reply.status) +
                          (reply.reason.empty() ? "" : " " + reply.reason) +
                          ": " + excerpt(reply.body),
                      retryable_status(reply.status));
  }
  return parse(reply.body, texts.size());
}

// -- connections --------------------------------------------------------------

struct http_embedder::connection {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
  /// Requests answered on it so far.
  size_t served = 0;
};

http_embedder::~http_embedder() = default;

std::unique_ptr<http_embedder::connection> http_embedder::take_idle() const {
  std::lock_guard<std::mutex> guard{idle_mtx_};
  if (idle_.empty())
    return nullptr;
  auto conn = std::move(idle_.back());
  idle_.pop_back();
  return conn;
}

void http_embedder::give_back(std::unique_ptr<connection> conn) const {
  if (!conn->connected)
    return; // the server asked to close it
  std::lock_guard<std::mutex> guard{idle_mtx_};
  if (idle_.size() < config_.max_idle)
    idle_.push_back(std::move(conn));
}

http_embedder::response http_embedder::post(const std::string& body) const {
  const auto deadline = std::chrono::steady_clock::now() + config_.timeout;
  // A reused connection the server closed while it sat idle fails before
  // any answer: then once more on a new one.
  if (auto conn = take_idle()) {
    bool stale = false;
    try {
      auto res = exchange(*conn, body, deadline, stale);
      give_back(std::move(conn));
      return res;
    } catch (const embed_error&) {
      if (!stale)
        throw;
    }
  }
  auto conn = std::make_unique<connection>();
  bool stale = false;
  auto res = exchange(*conn, body, deadline, stale);
  give_back(std::move(conn));
  return res;
}

http_embedder::response
http_embedder::exchange(connection& conn, const std::string& body,
                        std::chrono::steady_clock::time_point deadline,
                        bool& stale) const {
  // Synchronous to the caller, asynchronous inside: Beast's tcp_stream
  // applies its expiry only to asynchronous operations, so each step runs
  // on the connection's io_context until it completes or the deadline
  // cancels it. Any failure leaves the connection unusable: the caller
  // drops it.
  auto& ioc = conn.ioc;
  auto fail = [&](const std::string& stage, const beast::error_code& ec) {
    const bool timed_out =
        ec == beast::error::timeout || ec == asio::error::operation_aborted;
    throw embed_error("embedder " + endpoint_ + " " +
                          (timed_out
                               ? "timed out after " +
                                     std::to_string(config_.timeout.count()) +
                                     " ms while " + stage
                               : stage + " failed: " + ec.message()),
                      true);
  };
  auto& stream = conn.stream;
  auto step = [&](auto start) {
    stream.expires_at(deadline);
    beast::error_code result;
    start([&](const beast::error_code& e, auto&&...) { result = e; });
    ioc.restart();
    ioc.run();
    return result;
  };

  if (!conn.connected) {
    tcp::resolver::results_type endpoints;
    if (auto ec = resolve_until(ioc, host_, port_, deadline, endpoints))
      fail("resolving " + host_, ec);
    if (auto e = step([&](auto handler) {
          stream.async_connect(endpoints, std::move(handler));
        }))
      fail("connecting", e);
    conn.connected = true;
    opened_.fetch_add(1);
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay{true}, ignored);
  }

  http::request<http::string_body> req{http::verb::post, target_, 11};
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::user_agent, "distiller");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  if (!config_.api_key.empty())
    req.set(http::field::authorization, "Bearer " + config_.api_key);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  const bool reused = conn.served > 0;
  if (auto e = step([&](auto handler) {
        http::async_write(stream, req, std::move(handler));
      })) {
    stale = reused && e != beast::error::timeout;
    fail("sending the request", e);
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  if (auto e = step([&](auto handler) {
        http::async_read(stream, conn.buffer, parser, std::move(handler));
      })) {
    // Nothing of an answer came: the server had closed the idle connection.
    stale = reused && e != beast::error::timeout && !parser.got_some();
    fail("waiting for the response", e);
  }
  ++conn.served;
  auto& res = parser.get();
  if (!res.keep_alive()) {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    conn.connected = false;
    stream.close();
  }
  return {res.result_int(), std::string(res.reason()), std::move(res.body())};
}

std::vector<std::vector<float>> http_embedder::parse(const std::string& body,
                                                     size_t expected) const {
  auto malformed = [&](const std::string& why) {
    return embed_error("embedder " + endpoint_ +
                           " sent a malformed response (" + why +
                           "): " + excerpt(body),
                       false);
  };
  beast::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec)
    throw malformed("invalid JSON: " + ec.message());
  const auto* root = doc.if_object();
  const json::value* data_value = root ? root->if_contains("data") : nullptr;
  const auto* data = data_value ? data_value->if_array() : nullptr;
  if (!data)
    throw malformed("no \"data\" array");
  if (data->size() != expected)
    throw embed_error("embedder " + endpoint_ + " returned " +
                          std::to_string(data->size()) + " embeddings for " +
                          std::to_string(expected) + " inputs",
                      false);
  std::vector<std::vector<float>> out(expected);
  size_t dim = dimension_.load();
  for (size_t pos = 0; pos < data->size(); ++pos) {
    const auto* item = (*data)[pos].if_object();
    if (!item)
      throw malformed("data[" + std::to_string(pos) + "] is not an object");
    size_t index = pos;
    if (const auto* idx = item->if_contains("index")) {
      auto n = idx->to_number<int64_t>(ec);
      if (ec || n < 0 || static_cast<size_t>(n) >= expected)
        throw malformed("data[" + std::to_string(pos) + "].index is invalid");
      index = static_cast<size_t>(n);
    }
    if (!out[index].empty())
      throw malformed("index " + std::to_string(index) + " appears twice");
    const json::value* emb_value = item->if_contains("embedding");
    const auto* emb = emb_value ? emb_value->if_array() : nullptr;
    if (!emb || emb->empty())
      throw malformed("data[" + std::to_string(pos) +
                      "].embedding is not a non-empty array of numbers");
    if (dim == 0)
      dim = emb->size();
    if (emb->size() != dim)
      throw embed_error("embedder " + endpoint_ + " returned a vector of " +
                            std::to_string(emb->size()) +
                            " dimensions, expected " + std::to_string(dim),
                        false);
    std::vector<float> v(dim);
    double norm = 0;
    for (size_t k = 0; k < dim; ++k) {
      const double x = (*emb)[k].to_number<double>(ec);
      if (ec || !std::isfinite(x))
        throw malformed("data[" + std::to_string(pos) + "].embedding[" +
                        std::to_string(k) + "] is not a number");
      v[k] = static_cast<float>(x);
      norm += x * x;
    }
    if (norm > 0) {
      const double scale = 1.0 / std::sqrt(norm);
      for (auto& x : v)
        x = static_cast<float>(x * scale);
    }
    out[index] = std::move(v);
  }
  // Learn the dimension once; a concurrent first call learns the same one,
  // or the check above refuses the other on its next response.
  size_t unknown = 0;
  if (!dimension_.compare_exchange_strong(unknown, dim) && unknown != dim)
    throw embed_error("embedder " + endpoint_ + " returned a vector of " +
                          std::to_string(dim) + " dimensions, expected " +
                          std::to_string(unknown),
                      false);
  return out;
}

} // namespace distiller::documents
