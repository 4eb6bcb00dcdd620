#include "actors/thoughts/agents/chat_agent.hpp"

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

#include "actors/thoughts/agents/results.hpp"
#include "actors/thoughts/agents/text.hpp"
#include "runtime/core/resolve.hpp"

namespace distiller::thoughts {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t max_response_bytes = 16ull * 1024 * 1024;
constexpr size_t excerpt_bytes = 200;

/// The start of a body for an error message: one line of valid UTF-8.
std::string excerpt(std::string_view body) {
  size_t cut = std::min(body.size(), excerpt_bytes);
  while (cut > 0 && cut < body.size() &&
         (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80)
    --cut; // not inside a UTF-8 sequence
  std::string out = text::repair_utf8(body.substr(0, cut));
  for (char& c : out)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  if (out.empty())
    return "(empty body)";
  return cut < body.size() ? out + "…" : out;
}

bool retryable_status(unsigned status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

// -- prompts -----------------------------------------------------------------

constexpr std::string_view preamble =
    "You are one agent in a pipeline that analyses short personal notes "
    "(\"thoughts\"). The user message is a JSON object: \"text\" is the "
    "thought, \"created_at\" the RFC 3339 time it was written (resolve "
    "relative dates such as \"tomorrow\" or \"by Friday\" against it; weeks "
    "run Monday to Sunday), \"previous\" holds the results of the agents "
    "before you. Answer with exactly one JSON object and nothing else, with "
    "these fields:\n";

constexpr std::string_view classify_prompt =
    "Task: classify the thought.\n"
    "- \"category\": one of \"idea\", \"task\", \"question\", \"concern\", "
    "\"reflection\" (use \"reflection\" with low confidence for empty or "
    "unclear text)\n"
    "- \"confidence\": number from 0 to 1, lower when two categories are "
    "close\n"
    "- \"scores\": object with a number for each of the five categories, "
    "summing to 1\n"
    "- \"signals\": array of short strings naming what in the text led to "
    "the category, e.g. \"question mark\", \"imperative 'call'\"\n";

constexpr std::string_view analyse_prompt =
    "Task: analyse the thought's content.\n"
    "- \"keywords\": array of at most 8 objects {\"term\": string, "
    "\"score\": number 0..1}, best first\n"
    "- \"sentiment\": object {\"score\": number -1..1, \"label\": "
    "\"positive\"|\"negative\"|\"neutral\"|\"mixed\", \"positive\": number "
    "of positive words, \"negative\": number of negative words}\n"
    "- \"entities\": array of {\"text\": string, \"type\": "
    "\"person\"|\"organization\"|\"place\"|\"email\"|\"url\"|\"handle\"|"
    "\"other\"}\n"
    "- \"dates\": array of {\"text\": the phrase as written, \"date\": "
    "\"YYYY-MM-DD\"}\n"
    "- \"numbers\": array of {\"text\": as written, \"value\": number}\n"
    "- \"words\": number of words (integer)\n"
    "- \"sentences\": number of sentences (integer)\n";

constexpr std::string_view value_prompt =
    "Task: judge the thought's value, using previous.classification and "
    "previous.analysis.\n"
    "- \"importance\": number 0..1\n"
    "- \"urgency\": number 0..1 (deadlines soon raise it)\n"
    "- \"actionability\": number 0..1 (concrete actions raise it)\n"
    "- \"score\": number 0..1 combining the three\n"
    "- \"priority\": \"low\", \"medium\" or \"high\"\n"
    "- \"reasons\": array of short strings, each naming what raised or "
    "lowered a score\n";

constexpr std::string_view plan_prompt =
    "Task: extract the action items.\n"
    "- \"actions\": array of {\"text\": a short imperative phrase, \"due\": "
    "\"YYYY-MM-DD\" or null, \"due_text\": the date phrase as written or "
    "null, \"priority\": \"low\"|\"medium\"|\"high\"} (empty when there is "
    "nothing to do)\n"
    "- \"next_step\": the text of the action to do first, or null\n";

constexpr std::string_view summarise_prompt =
    "Task: summarise the thought.\n"
    "- \"title\": at most 60 characters\n"
    "- \"summary\": the 1 to 3 most important sentences of the text, in "
    "their original order and wording\n"
    "- \"category\": previous.classification.category\n"
    "- \"priority\": previous.value.priority\n"
    "- \"action_count\": the number of previous.plan.actions (integer)\n";

// -- the agent ---------------------------------------------------------------

class chat_agent final : public agent {
 public:
  chat_agent(agent_kind k, chat_agent_config config)
      : kind_(k), config_(std::move(config)) {
    // The node's keys: one for all agents, or one per agent.
    const std::string name(agent_name(k));
    const std::string url_key = "agents.chat_url (or agents." + name + "_url)";
    const std::string model_key =
        "agents.chat_model (or agents." + name + "_model)";
    std::string_view url = config_.url;
    if (url.starts_with("https://"))
      throw std::invalid_argument(
          url_key + ": https:// is not supported, use an http:// endpoint "
                    "(a local TLS-terminating proxy for remote services)");
    if (!url.starts_with("http://"))
      throw std::invalid_argument(url_key + " must start with http:// (got \"" +
                                  config_.url + "\")");
    url.remove_prefix(7);
    const size_t slash = url.find('/');
    const std::string_view authority = url.substr(0, slash);
    std::string path(slash == std::string_view::npos ? "" : url.substr(slash));
    while (!path.empty() && path.back() == '/')
      path.pop_back();
    std::string_view host = authority, port = "80";
    if (authority.starts_with('[')) { // [::1]:8080
      const size_t close = authority.find(']');
      if (close == std::string_view::npos)
        throw std::invalid_argument(url_key + ": unterminated IPv6 address");
      host = authority.substr(1, close - 1);
      if (close + 1 < authority.size() && authority[close + 1] == ':')
        port = authority.substr(close + 2);
    } else if (const size_t colon = authority.rfind(':');
               colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty())
      throw std::invalid_argument(url_key + " has no host (got \"" +
                                  config_.url + "\")");
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoul(std::string(port)) > 65535)
      throw std::invalid_argument(url_key + " has an invalid port (got \"" +
                                  config_.url + "\")");
    if (config_.model.empty())
      throw std::invalid_argument(model_key + " must not be empty");
    if (config_.timeout.count() <= 0)
      throw std::invalid_argument("agents.chat_timeout must be positive");
    host_ = std::string(host);
    port_ = std::string(port);
    target_ = path.ends_with("/v1") ? path + "/chat/completions"
                                    : path + "/v1/chat/completions";
    const bool v6 = host_.find(':') != std::string::npos;
    endpoint_ =
        "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + port_ + target_;
  }

  agent_kind kind() const noexcept override { return kind_; }

  std::string backend() const override { return config_.model; }

  boost::json::object run(const agent_input& in) const override {
    const auto reply =
        post(json::serialize(chat_request(kind_, config_.model, in)));
    if (reply.status != 200)
      throw agent_error(who() + " answered HTTP " +
                            std::to_string(reply.status) +
                            (reply.reason.empty() ? "" : " " + reply.reason) +
                            ": " + excerpt(reply.body),
                        retryable_status(reply.status));
    try {
      return parse_chat_response(kind_, reply.body);
    } catch (const agent_error& e) {
      throw agent_error(who() + ": " + e.what(), e.retryable());
    }
  }

 private:
  struct response {
    unsigned status = 0;
    std::string reason;
    std::string body;
  };

  std::string who() const {
    return std::string(agent_name(kind_)) + " agent: chat service " + endpoint_;
  }

  [[noreturn]] void fail(const std::string& stage,
                         const beast::error_code& ec) const {
    const bool timed_out =
        ec == beast::error::timeout || ec == asio::error::operation_aborted;
    throw agent_error(who() + " " +
                          (timed_out
                               ? "timed out after " +
                                     std::to_string(config_.timeout.count()) +
                                     " ms while " + stage
                               : stage + " failed: " + ec.message()),
                      true);
  }

  /// One request on a fresh connection. Beast's tcp_stream applies its
  /// expiry only to asynchronous operations, so each step runs on a
  /// private io_context until it completes or the deadline cancels it.
  response post(const std::string& body) const {
    const auto deadline = std::chrono::steady_clock::now() + config_.timeout;
    asio::io_context ioc;

    tcp::resolver::results_type endpoints;
    if (auto ec = resolve_until(ioc, host_, port_, deadline, endpoints))
      fail("resolving " + host_, ec);

    beast::tcp_stream stream(ioc);
    auto step = [&](const std::string& stage, auto start) {
      stream.expires_at(deadline);
      beast::error_code result;
      start([&](const beast::error_code& e, auto&&...) { result = e; });
      ioc.restart();
      ioc.run();
      if (result)
        fail(stage, result);
    };

    step("connecting", [&](auto handler) {
      stream.async_connect(endpoints, std::move(handler));
    });

    http::request<http::string_body> req{http::verb::post, target_, 11};
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::user_agent, "distiller");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    if (!config_.api_key.empty())
      req.set(http::field::authorization, "Bearer " + config_.api_key);
    req.keep_alive(false);
    req.body() = body;
    req.prepare_payload();
    step("sending the request", [&](auto handler) {
      http::async_write(stream, req, std::move(handler));
    });

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes);
    step("waiting for the response", [&](auto handler) {
      http::async_read(stream, buffer, parser, std::move(handler));
    });

    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    auto& res = parser.get();
    return {res.result_int(), std::string(res.reason()), std::move(res.body())};
  }

  agent_kind kind_;
  chat_agent_config config_;
  std::string host_;
  std::string port_;
  std::string target_;
  std::string endpoint_;
};

agent_error malformed(const std::string& why, std::string_view content) {
  return agent_error("malformed answer: " + why + ": " + excerpt(content),
                     true);
}

/// The JSON object inside a model's message: fences and prose around it
/// are dropped.
std::string_view object_text(std::string_view content) {
  const size_t open = content.find('{');
  const size_t close = content.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos ||
      close < open)
    return {};
  return content.substr(open, close - open + 1);
}

} // namespace

std::string chat_system_prompt(agent_kind k) {
  std::string out(preamble);
  switch (k) {
  case agent_kind::classify:
    out += classify_prompt;
    break;
  case agent_kind::analyse:
    out += analyse_prompt;
    break;
  case agent_kind::value:
    out += value_prompt;
    break;
  case agent_kind::plan:
    out += plan_prompt;
    break;
  case agent_kind::summarise:
    out += summarise_prompt;
    break;
  }
  return out;
}

boost::json::object chat_request(agent_kind k, const std::string& model,
                                 const agent_input& in) {
  json::object previous;
  for (size_t i = 0; i < static_cast<size_t>(k) && i < agent_count; ++i)
    previous[result_name(static_cast<agent_kind>(i))] = in.previous[i];
  json::object user;
  user["text"] = text::clean(in.text); // JSON strings must be valid UTF-8
  user["created_at"] = text::repair_utf8(in.created_at);
  user["previous"] = std::move(previous);
  json::array messages;
  messages.emplace_back(
      json::object{{"role", "system"}, {"content", chat_system_prompt(k)}});
  messages.emplace_back(
      json::object{{"role", "user"}, {"content", json::serialize(user)}});
  json::object body;
  body["model"] = model;
  body["temperature"] = 0;
  body["response_format"] = json::object{{"type", "json_object"}};
  body["messages"] = std::move(messages);
  return body;
}

boost::json::object parse_chat_response(agent_kind k, std::string_view body) {
  beast::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec)
    throw malformed("the response is not JSON (" + ec.message() + ")", body);
  const json::value* content = nullptr;
  if (const auto* root = doc.if_object())
    if (const auto* choices = root->if_contains("choices"))
      if (const auto* list = choices->if_array(); list && !list->empty())
        if (const auto* choice = list->front().if_object())
          if (const auto* message = choice->if_contains("message"))
            if (const auto* m = message->if_object())
              content = m->if_contains("content");
  if (!content || !content->is_string())
    throw malformed("no choices[0].message.content string", body);
  const std::string_view text = content->get_string();
  const std::string_view inner = object_text(text);
  if (inner.empty())
    throw malformed("the content holds no JSON object", text);
  json::value result = json::parse(inner, ec);
  if (ec || !result.is_object())
    throw malformed("the content is not a JSON object", text);
  const std::string problem = check_result(k, result.get_object());
  if (!problem.empty())
    throw malformed(problem, text);
  return std::move(result.get_object());
}

agent_ptr make_chat_agent(agent_kind k, chat_agent_config config) {
  return std::make_shared<const chat_agent>(k, std::move(config));
}

} // namespace distiller::thoughts
