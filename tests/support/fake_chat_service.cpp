#include "tests/support/fake_chat_service.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>

#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/agents/chat_agent.hpp"

namespace distiller::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
namespace th = distiller::thoughts;
using tcp = asio::ip::tcp;

struct fake_chat_service::impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc,
                         tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  uint16_t port = acceptor.local_endpoint().port();
  std::thread accept_thread;
  mutable std::mutex mtx;
  std::vector<std::thread> connections;
  /// Their sockets' descriptors, to end blocking reads at shutdown.
  std::vector<int> fds;
  std::map<std::pair<std::string, std::string>, int> calls;
  int total = 0;
  std::chrono::milliseconds delay{0};
  std::atomic<bool> stopping{false};

  /// The reply for one request body: the built-in result of the named agent.
  std::string answer(const std::string& body) {
    auto req = json::parse(body).as_object();
    auto& messages = req.at("messages").as_array();
    std::string system{messages.at(0).at("content").as_string()};
    auto user =
        json::parse(messages.at(1).at("content").as_string()).as_object();
    th::agent_kind kind = th::agent_kind::classify;
    for (auto k : th::all_agents)
      if (system == th::chat_system_prompt(k))
        kind = k;
    th::agent_input in;
    in.text = std::string{user.at("text").as_string()};
    in.created_at = std::string{user.at("created_at").as_string()};
    if (auto* prev = user.if_contains("previous"); prev && prev->is_object())
      for (auto k : th::all_agents)
        if (auto* r = prev->as_object().if_contains(th::result_name(k));
            r && r->is_object())
          in.previous[static_cast<size_t>(k)] = r->as_object();
    std::chrono::milliseconds wait;
    {
      std::lock_guard<std::mutex> guard{mtx};
      ++calls[{in.text, std::string{th::agent_name(kind)}}];
      ++total;
      wait = delay;
    }
    std::this_thread::sleep_for(wait);
    auto result = th::make_builtin_agent(kind)->run(in);
    json::object reply{
        {"choices",
         json::array{json::object{
             {"message",
              json::object{{"role", "assistant"},
                           {"content", json::serialize(result)}}}}}}};
    return json::serialize(reply);
  }

  void serve(tcp::socket&& moved) {
    tcp::socket socket = std::move(moved);
    // Destroyed before the socket closes: its number is forgotten while it
    // still belongs to this socket.
    struct forget {
      impl* self;
      int fd;
      ~forget() {
        std::lock_guard<std::mutex> g{self->mtx};
        auto& v = self->fds;
        v.erase(std::remove(v.begin(), v.end(), fd), v.end());
      }
    } guard{this, socket.native_handle()};
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      beast::error_code ec;
      bhttp::read(socket, buffer, req, ec);
      if (ec || stopping)
        return;
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
      res.set(bhttp::field::content_type, "application/json");
      try {
        res.body() = answer(req.body());
      } catch (const std::exception& e) {
        res.result(bhttp::status::bad_request);
        res.body() = json::serialize(json::object{{"error", e.what()}});
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::write(socket, res, ec);
      if (ec || !req.keep_alive())
        return;
    }
  }

  void accept_loop() {
    for (;;) {
      tcp::socket socket(ioc);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (stopping)
        return;
      if (ec)
        continue;
      std::lock_guard<std::mutex> guard{mtx};
      fds.push_back(socket.native_handle());
      connections.emplace_back(
          [this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }
};

fake_chat_service::fake_chat_service() : impl_(std::make_unique<impl>()) {
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

fake_chat_service::~fake_chat_service() {
  impl_->stopping = true;
  try { // wake the blocking accept
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port));
  } catch (...) {
  }
  impl_->accept_thread.join();
  std::vector<std::thread> ts;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    ts.swap(impl_->connections);
    // A blocking read returns once its socket is shut down.
    for (int fd : impl_->fds)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : ts)
    t.join();
}

std::string fake_chat_service::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void fake_chat_service::set_delay(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->delay = d;
}

std::map<std::pair<std::string, std::string>, int>
fake_chat_service::calls() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->calls;
}

int fake_chat_service::total_calls() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->total;
}

} // namespace distiller::testing
