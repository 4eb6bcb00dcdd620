#include "bridges/kafka_tools/shutdown.hpp"

#include <future>
#include <memory>
#include <thread>

#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

void leave_group(rd_kafka_t* rk, const std::function<bool()>& still_assigned,
                 std::chrono::milliseconds timeout) {
  if (auto err = rd_kafka_unsubscribe(rk); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    log::debug("unsubscribe_failed", {{"error", rd_kafka_err2str(err)}});
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (still_assigned() && std::chrono::steady_clock::now() < deadline) {
    message_ptr dropped{rd_kafka_consumer_poll(rk, 50)};
  }
  // What is left (records fetched before the revocation, internal ops) is
  // popped and freed here rather than at destruction.
  for (int i = 0; i < 10'000; ++i) {
    message_ptr dropped{rd_kafka_consumer_poll(rk, 0)};
    if (!dropped)
      break;
  }
}

void destroy_closed_consumer(rd_kafka_ptr rk,
                             std::chrono::milliseconds timeout) {
  if (!rk)
    return;
  auto name = std::string{rd_kafka_name(rk.get())};
  auto* raw = rk.release();
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  std::thread destroyer{[raw, done] {
    // Closed already: destroying must not try to leave the group again.
    rd_kafka_destroy_flags(raw, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    done->set_value();
  }};
  if (finished.wait_for(timeout) == std::future_status::ready) {
    destroyer.join();
    return;
  }
  destroyer.detach();
  log::warn("consumer_destroy_stuck",
            {{"client", name},
             {"waited_ms", static_cast<int64_t>(timeout.count())},
             {"reason", "librdkafka 2.0.2 keeps an internal reference; the "
                        "handle is left to the process"}});
}

} // namespace distiller::kafka::tools
