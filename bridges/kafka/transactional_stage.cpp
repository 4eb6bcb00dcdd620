#include "bridges/kafka/transactional_stage.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/transactional_stage_impl.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

using detail::clock_type;
using detail::crash_signal;
using detail::describe;
using detail::error_ptr;
using detail::group_metadata_ptr;
using detail::stage_failure;

// -- lifecycle ----------------------------------------------------------------

transactional_stage::transactional_stage(eos_stage_config cfg, transform_fn fn,
                                         metrics::node_metrics* metrics)
    : cfg_(std::move(cfg)), fn_(std::move(fn)), metrics_(metrics),
      impl_(std::make_unique<impl>()) {
  detail::validate(cfg_);
  if (!fn_)
    throw std::invalid_argument("eos_stage.transform: must not be empty");
  impl_->name = cfg_.transactional_id;
  if (metrics_ != nullptr) {
    auto& records = prometheus::BuildCounter()
                        .Name("distiller_kafka_eos_records_total")
                        .Help("Records the exactly-once stage consumed or "
                              "produced (aborted batches count again)")
                        .Register(metrics_->registry());
    auto& txns = prometheus::BuildCounter()
                     .Name("distiller_kafka_eos_transactions_total")
                     .Help("Transactions of the exactly-once stage")
                     .Register(metrics_->registry());
    auto& name = cfg_.transactional_id;
    impl_->consumed =
        &records.Add({{"stage", name}, {"direction", "consumed"}});
    impl_->produced =
        &records.Add({{"stage", name}, {"direction", "produced"}});
    impl_->committed = &txns.Add({{"stage", name}, {"result", "committed"}});
    impl_->aborted = &txns.Add({{"stage", name}, {"result", "aborted"}});
  }
}

transactional_stage::~transactional_stage() {
  stop();
}

void transactional_stage::start() {
  if (state_.load() != run_state::idle || thread_.joinable())
    throw std::logic_error("transactional_stage " + cfg_.transactional_id +
                           ": started twice");
  auto cconf = make_conf(eos_consumer_properties(cfg_));
  forward_logs(cconf.get());
  rd_kafka_conf_set_rebalance_cb(cconf.get(), impl::on_rebalance);
  rd_kafka_conf_set_error_cb(cconf.get(), impl::on_error);
  rd_kafka_conf_set_opaque(cconf.get(), impl_.get());
  auto pconf = make_conf(eos_producer_properties(cfg_));
  forward_logs(pconf.get());
  rd_kafka_conf_set_dr_msg_cb(pconf.get(), impl::on_delivery);
  rd_kafka_conf_set_error_cb(pconf.get(), impl::on_error);
  rd_kafka_conf_set_opaque(pconf.get(), impl_.get());
  impl_->consumer = make_client(RD_KAFKA_CONSUMER, std::move(cconf));
  rd_kafka_poll_set_consumer(impl_->consumer.get());
  impl_->producer = make_client(RD_KAFKA_PRODUCER, std::move(pconf));
  state_.store(run_state::running);
  thread_ = std::thread{[this] {
    run();
  }};
}

void transactional_stage::stop() {
  stop_.store(true);
  if (thread_.joinable())
    thread_.join();
  // The thread closed the consumer already; destroying is quick now.
  // Polled messages go first: they pin the consumer's brokers.
  impl_->batch.clear();
  impl_->producer.reset();
  impl_->consumer.reset();
}

bool transactional_stage::crash(std::chrono::milliseconds timeout) {
  if (!thread_.joinable())
    return false;
  crash_requested_.store(true);
  {
    std::unique_lock<std::mutex> guard{mtx_};
    if (!finished_cv_.wait_for(guard, timeout, [this] { return finished_; }))
      crash_now_.store(true); // leave wherever it is
  }
  thread_.join();
  // Like a killed process: unsent records vanish with its memory, nothing
  // commits or aborts the open transaction, the consumer never leaves its
  // group (it stays a member until session.timeout.ms).
  if (impl_->producer) {
    rd_kafka_purge(impl_->producer.get(),
                   RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(impl_->producer.get(), 0);
    impl_->producer.reset();
  }
  // Polled messages pin their partitions and brokers: a consumer destroyed
  // before them never finishes terminating.
  impl_->batch.clear();
  if (impl_->consumer)
    rd_kafka_destroy_flags(impl_->consumer.release(),
                           RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  log::warn("eos_stage_crashed", {{"stage", cfg_.transactional_id},
                                  {"mid_transaction", crashed_at_point_.load()},
                                  {"hook", "crash()"}});
  return crashed_at_point_.load();
}

eos_stage_stats transactional_stage::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stats_;
}

std::string transactional_stage::error() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return error_;
}

void transactional_stage::fail(std::string why) {
  log::error("eos_stage_failed",
             {{"stage", cfg_.transactional_id}, {"error", why}});
  {
    std::lock_guard<std::mutex> guard{mtx_};
    error_ = std::move(why);
  }
  state_.store(run_state::failed);
}

void transactional_stage::add_stats(uint64_t consumed, uint64_t produced,
                                    uint64_t committed, uint64_t txn_committed,
                                    uint64_t txn_aborted) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stats_.consumed += consumed;
    stats_.produced += produced;
    stats_.committed_inputs += committed;
    stats_.transactions_committed += txn_committed;
    stats_.transactions_aborted += txn_aborted;
  }
  auto& im = *impl_;
  if (im.consumed != nullptr) {
    im.consumed->Increment(static_cast<double>(consumed));
    im.produced->Increment(static_cast<double>(produced));
    im.committed->Increment(static_cast<double>(txn_committed));
    im.aborted->Increment(static_cast<double>(txn_aborted));
  }
}

} // namespace distiller::kafka
