#include "bridges/kafka/transactional_stage.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/sink.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

// -- configuration ------------------------------------------------------------

namespace {

[[noreturn]] void bad_field(const std::string& field, const std::string& why) {
  throw std::invalid_argument("eos_stage." + field + ": " + why);
}

void validate(const eos_stage_config& cfg) {
  auto required = [](const std::string& value, const char* field) {
    if (value.empty())
      bad_field(field, "must not be empty");
  };
  required(cfg.brokers, "brokers");
  required(cfg.group, "group");
  required(cfg.input_topic, "input_topic");
  required(cfg.output_topic, "output_topic");
  required(cfg.transactional_id, "transactional_id");
  if (cfg.max_batch == 0)
    bad_field("max_batch", "must be positive");
  if (cfg.max_batch_time.count() <= 0)
    bad_field("max_batch_time", "must be positive");
  if (cfg.transaction_timeout.count() < 1000)
    bad_field("transaction_timeout", "must be at least 1000 ms");
  if (cfg.session_timeout.count() <= 0)
    bad_field("session_timeout", "must be positive");
}

} // namespace

std::map<std::string, std::string>
eos_consumer_properties(const eos_stage_config& cfg) {
  validate(cfg);
  std::map<std::string, std::string> props{
      {"bootstrap.servers", cfg.brokers},
      {"group.id", cfg.group},
      {"client.id", cfg.transactional_id + "-consumer"},
      {"isolation.level", "read_committed"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"session.timeout.ms", std::to_string(cfg.session_timeout.count())},
  };
  for (auto& [key, value] : cfg.consumer_extra) {
    if (key == "enable.auto.commit" && value != "false")
      bad_field("consumer_extra." + key,
                "offsets are committed inside transactions only");
    if (key == "isolation.level" && value != "read_committed")
      bad_field("consumer_extra." + key,
                "the stage must not read aborted records");
    props[key] = value;
  }
  return props;
}

std::map<std::string, std::string>
eos_producer_properties(const eos_stage_config& cfg) {
  validate(cfg);
  std::map<std::string, std::string> props{
      {"bootstrap.servers", cfg.brokers},
      {"client.id", cfg.transactional_id + "-producer"},
      {"transactional.id", cfg.transactional_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"transaction.timeout.ms",
       std::to_string(cfg.transaction_timeout.count())},
  };
  for (auto& [key, value] : cfg.producer_extra) {
    if (key == "transactional.id" || key == "enable.idempotence" ||
        key == "acks" || key == "request.required.acks")
      bad_field("producer_extra." + key,
                "fixed by the stage (exactly-once needs it)");
    props[key] = value;
  }
  return props;
}

std::string to_string(transactional_stage::run_state x) {
  switch (x) {
  case transactional_stage::run_state::idle:
    return "idle";
  case transactional_stage::run_state::running:
    return "running";
  case transactional_stage::run_state::stopped:
    return "stopped";
  case transactional_stage::run_state::failed:
    return "failed";
  }
  return "unknown";
}

// -- helpers ------------------------------------------------------------------

namespace {

using clock_type = std::chrono::steady_clock;

struct error_deleter {
  void operator()(rd_kafka_error_t* x) const noexcept {
    rd_kafka_error_destroy(x);
  }
};
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;

struct group_metadata_deleter {
  void operator()(rd_kafka_consumer_group_metadata_t* x) const noexcept {
    rd_kafka_consumer_group_metadata_destroy(x);
  }
};
using group_metadata_ptr =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, group_metadata_deleter>;

/// Thrown on the stage's thread to leave it at once (the crash hook).
struct crash_signal {};

/// Thrown on the stage's thread to stop it with an error.
struct stage_failure {
  std::string why;
};

std::string describe(const rd_kafka_error_t* e) {
  return std::string{rd_kafka_error_name(e)} + ": " + rd_kafka_error_string(e);
}

std::string describe(const rd_kafka_topic_partition_list_t* parts) {
  std::string out;
  for (int i = 0; i < parts->cnt; ++i) {
    if (!out.empty())
      out += ',';
    out += parts->elems[i].topic;
    out += '[' + std::to_string(parts->elems[i].partition) + ']';
  }
  return out;
}

/// Consecutive aborted transactions before the stage gives up: a batch that
/// can never commit (say, a record the broker always rejects) must not spin
/// forever.
constexpr int max_consecutive_aborts = 10;

/// Retriable errors of one transactional call before it counts as failed.
constexpr int max_retries = 10;

/// How long the crash hook lets librdkafka register partitions (see
/// process_batch).
constexpr auto crash_registration_grace = std::chrono::milliseconds{500};

} // namespace

// -- the clients and the open batch -------------------------------------------

struct transactional_stage::impl {
  std::string name;
  rd_kafka_ptr consumer;
  rd_kafka_ptr producer;
  /// Polled, not yet committed; in offset order per partition.
  std::vector<message_ptr> batch;
  bool in_txn = false;
  int consecutive_aborts = 0;
  std::string last_delivery_error;

  prometheus::Counter* consumed = nullptr;
  prometheus::Counter* produced = nullptr;
  prometheus::Counter* committed = nullptr;
  prometheus::Counter* aborted = nullptr;

  /// Drops polled records of revoked partitions: their new owner reads them
  /// again from the committed offsets.
  void drop(const rd_kafka_topic_partition_list_t* parts) {
    auto revoked = [parts](const message_ptr& m) {
      auto topic = rd_kafka_topic_name(m->rkt);
      for (int i = 0; i < parts->cnt; ++i)
        if (parts->elems[i].partition == m->partition &&
            std::string_view{parts->elems[i].topic} == topic)
          return true;
      return false;
    };
    batch.erase(std::remove_if(batch.begin(), batch.end(), revoked),
                batch.end());
  }

  // Runs inside rd_kafka_consumer_poll on the stage's thread, i.e. while a
  // batch is being collected and no transaction is open.
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    auto cooperative =
        std::string_view{rd_kafka_rebalance_protocol(rk)} == "COOPERATIVE";
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      log::info("eos_partitions_assigned",
                {{"stage", self->name}, {"partitions", describe(parts)}});
      if (cooperative)
        error_ptr{rd_kafka_incremental_assign(rk, parts)};
      else
        rd_kafka_assign(rk, parts);
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
      log::info("eos_partitions_revoked",
                {{"stage", self->name}, {"partitions", describe(parts)}});
    else
      log::warn("eos_rebalance_error",
                {{"stage", self->name}, {"error", rd_kafka_err2name(err)}});
    self->drop(parts);
    if (cooperative)
      error_ptr{rd_kafka_incremental_unassign(rk, parts)};
    else
      rd_kafka_assign(rk, nullptr);
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg,
                          void* opaque) {
    // A failed delivery makes commit_transaction fail with an abortable
    // error; remember why for the log line.
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      static_cast<impl*>(opaque)->last_delivery_error =
          std::string{rd_kafka_topic_name(msg->rkt)} + ": " +
          rd_kafka_err2name(msg->err);
  }

  static void on_error(rd_kafka_t* rk, int code, const char* reason,
                       void* opaque) {
    auto err = static_cast<rd_kafka_resp_err_t>(code);
    auto lvl = err == RD_KAFKA_RESP_ERR__TRANSPORT ? log::level::debug
                                                   : log::level::warn;
    if (log::enabled(lvl))
      log::write(lvl, "kafka_client_error",
                 {{"stage", static_cast<impl*>(opaque)->name},
                  {"client", rd_kafka_name(rk)},
                  {"error", rd_kafka_err2name(err)},
                  {"reason", reason}});
  }
};

// -- lifecycle ----------------------------------------------------------------

transactional_stage::transactional_stage(eos_stage_config cfg, transform_fn fn,
                                         metrics::node_metrics* metrics)
    : cfg_(std::move(cfg)), fn_(std::move(fn)), metrics_(metrics),
      impl_(std::make_unique<impl>()) {
  validate(cfg_);
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

// -- the stage's thread -------------------------------------------------------

namespace {

enum class txn_result { ok, abort };

/// Runs one transactional call: retries retriable errors, reports abortable
/// ones, throws stage_failure on fatal or unexpected ones.
template <class Call>
txn_result txn_call(const std::string& stage, const char* what, Call call) {
  for (int attempt = 1;; ++attempt) {
    error_ptr e{call()};
    if (!e)
      return txn_result::ok;
    if (rd_kafka_error_is_fatal(e.get()))
      throw stage_failure{std::string{what} + ": fatal: " + describe(e.get())};
    if (rd_kafka_error_txn_requires_abort(e.get())) {
      log::warn(
          "eos_transaction_abortable",
          {{"stage", stage}, {"call", what}, {"error", describe(e.get())}});
      return txn_result::abort;
    }
    if (rd_kafka_error_is_retriable(e.get()) && attempt < max_retries) {
      log::warn(
          "eos_transaction_retry",
          {{"call", what}, {"attempt", attempt}, {"error", describe(e.get())}});
      continue;
    }
    throw stage_failure{std::string{what} + ": " + describe(e.get())};
  }
}

consumed_view view_of(const rd_kafka_message_t& m) {
  consumed_view v;
  v.topic = rd_kafka_topic_name(m.rkt);
  v.partition = m.partition;
  v.offset = m.offset;
  if (m.key != nullptr)
    v.key = std::string_view{static_cast<const char*>(m.key), m.key_len};
  if (m.payload != nullptr)
    v.value = std::string_view{static_cast<const char*>(m.payload), m.len};
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(&m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      kafka_header h{name,
                     value != nullptr
                         ? std::string{static_cast<const char*>(value), size}
                         : std::string{}};
      if (h.key == trace_header)
        v.trace = distiller::trace_id{h.value};
      v.headers.push_back(std::move(h));
    }
  }
  return v;
}

struct partition_span {
  int64_t first = -1;
  int64_t last = -1;
};

using span_map = std::map<std::pair<std::string, int32_t>, partition_span>;

span_map spans_of(const std::vector<message_ptr>& batch) {
  span_map out;
  for (auto& m : batch) {
    auto& s = out[{rd_kafka_topic_name(m->rkt), m->partition}];
    if (s.first < 0 || m->offset < s.first)
      s.first = m->offset;
    s.last = std::max(s.last, m->offset);
  }
  return out;
}

} // namespace

void transactional_stage::run() {
  auto& im = *impl_;
  try {
    loop();
    // Clean stop: nothing is open between batches, but be explicit.
    if (im.in_txn)
      error_ptr{rd_kafka_abort_transaction(im.producer.get(), -1)};
    rd_kafka_consumer_close(im.consumer.get());
    state_.store(run_state::stopped);
    auto s = stats();
    log::info("eos_stage_stopped",
              {{"stage", cfg_.transactional_id},
               {"committed_inputs", s.committed_inputs},
               {"transactions_committed", s.transactions_committed},
               {"transactions_aborted", s.transactions_aborted}});
  } catch (const crash_signal&) {
    // crash() tears the clients down the way a dead process would.
    state_.store(run_state::stopped);
  } catch (const stage_failure& f) {
    fail(f.why);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (state_.load() == run_state::failed && im.consumer) {
    // Abort what is still open (a fenced producer cannot) and leave the
    // group so the partitions move on.
    if (im.in_txn)
      error_ptr{rd_kafka_abort_transaction(im.producer.get(), -1)};
    im.batch.clear();
    rd_kafka_consumer_close(im.consumer.get());
  }
  std::lock_guard<std::mutex> guard{mtx_};
  finished_ = true;
  finished_cv_.notify_all();
}

void transactional_stage::loop() {
  auto& im = *impl_;
  // Fences every older producer with this transactional.id and waits for
  // (or aborts) its open transaction.
  for (;;) {
    error_ptr e{rd_kafka_init_transactions(
        im.producer.get(), static_cast<int>(cfg_.transaction_timeout.count()))};
    if (!e)
      break;
    if (rd_kafka_error_is_retriable(e.get()) && !stop_.load() &&
        !crash_now_.load()) {
      log::warn(
          "eos_init_transactions_retry",
          {{"stage", cfg_.transactional_id}, {"error", describe(e.get())}});
      continue;
    }
    throw stage_failure{"init_transactions: " + describe(e.get())};
  }
  topic_partition_list_ptr topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), cfg_.input_topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(im.consumer.get(), topics.get()))
    throw stage_failure{std::string{"subscribe: "} + rd_kafka_err2str(err)};
  log::info("eos_stage_started", {{"stage", cfg_.transactional_id},
                                  {"group", cfg_.group},
                                  {"input", cfg_.input_topic},
                                  {"output", cfg_.output_topic}});
  while (!stop_.load()) {
    if (crash_now_.load())
      throw crash_signal{};
    collect_batch();
    if (!im.batch.empty())
      process_batch();
  }
}

void transactional_stage::collect_batch() {
  auto& im = *impl_;
  auto deadline = clock_type::now() + cfg_.max_batch_time;
  uint64_t polled = 0;
  while (im.batch.size() < cfg_.max_batch && !stop_.load() &&
         !crash_now_.load()) {
    auto now = clock_type::now();
    if (now >= deadline)
      break;
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    auto wait = std::min(left, std::chrono::milliseconds{100});
    message_ptr m{rd_kafka_consumer_poll(im.consumer.get(),
                                         static_cast<int>(wait.count()))};
    if (!m)
      continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR__FATAL)
        throw stage_failure{"consumer: " +
                            std::string{rd_kafka_message_errstr(m.get())}};
      log::warn("eos_consume_error",
                {{"stage", cfg_.transactional_id},
                 {"error", rd_kafka_err2name(m->err)},
                 {"reason", rd_kafka_message_errstr(m.get())}});
      continue;
    }
    im.batch.push_back(std::move(m));
    ++polled;
  }
  if (polled > 0)
    add_stats(polled, 0, 0, 0, 0);
}

void transactional_stage::process_batch() {
  auto& im = *impl_;
  auto* producer = im.producer.get();
  if (txn_call(cfg_.transactional_id, "begin_transaction", [&] {
        return rd_kafka_begin_transaction(producer);
      }) == txn_result::abort) {
    abort_and_rewind("begin_transaction failed");
    return;
  }
  im.in_txn = true;
  im.last_delivery_error.clear();
  uint64_t produced = 0;
  for (auto& m : im.batch) {
    auto view = view_of(*m);
    std::vector<out_record> outs;
    try {
      outs = fn_(view);
    } catch (const std::exception& e) {
      log::error("eos_transform_failed", {{"stage", cfg_.transactional_id},
                                          {"topic", view.topic},
                                          {"partition", view.partition},
                                          {"offset", view.offset},
                                          {"trace_id", view.trace},
                                          {"error", e.what()}});
      throw stage_failure{"transform failed at " + std::string{view.topic} +
                          "[" + std::to_string(view.partition) + "]@" +
                          std::to_string(view.offset) + ": " + e.what()};
    }
    for (auto& out : outs) {
      if (out.topic.empty())
        out.topic = cfg_.output_topic;
      if (out.trace.value().empty())
        out.trace = view.trace;
      for (;;) {
        auto err = enqueue_record(producer, out, nullptr);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          // Deliveries free the queue; serve them and try again.
          rd_kafka_poll(producer, 10);
          continue;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
          // Deterministic (too large, bad partition …): running the batch
          // again would fail the same way.
          throw stage_failure{"produce to " + out.topic + " for input " +
                              std::string{view.topic} + "[" +
                              std::to_string(view.partition) + "]@" +
                              std::to_string(view.offset) + ": " +
                              rd_kafka_err2name(err)};
        break;
      }
      ++produced;
    }
  }
  rd_kafka_poll(producer, 0);
  add_stats(0, produced, 0, 0, 0);
  // The crash hook's point: a transaction is open, its outputs sit in the
  // producer, nothing is committed.
  if (crash_requested_.load()) {
    crashed_at_point_.store(true);
    // librdkafka 2.0.2 aborts the process (assertion txn_req_cnt > 0 in
    // rd_kafka_txn_handle_AddPartitionsToTxn) when a transactional producer
    // is destroyed while it registers the transaction's partitions, which
    // it starts right after the first produce. No API tells when that is
    // done; it takes a round trip, so give it a bounded moment.
    std::this_thread::sleep_for(crash_registration_grace);
    throw crash_signal{};
  }
  auto spans = spans_of(im.batch);
  topic_partition_list_ptr offsets{
      rd_kafka_topic_partition_list_new(static_cast<int>(spans.size()))};
  for (auto& [tp, span] : spans)
    rd_kafka_topic_partition_list_add(offsets.get(), tp.first.c_str(),
                                      tp.second)
        ->offset = span.last + 1;
  group_metadata_ptr group{rd_kafka_consumer_group_metadata(im.consumer.get())};
  if (txn_call(cfg_.transactional_id, "send_offsets_to_transaction", [&] {
        return rd_kafka_send_offsets_to_transaction(producer, offsets.get(),
                                                    group.get(), -1);
      }) == txn_result::abort) {
    abort_and_rewind("send_offsets_to_transaction failed");
    return;
  }
  if (txn_call(cfg_.transactional_id, "commit_transaction", [&] {
        return rd_kafka_commit_transaction(producer, -1);
      }) == txn_result::abort) {
    abort_and_rewind("commit_transaction failed" +
                     (im.last_delivery_error.empty()
                          ? std::string{}
                          : " (delivery: " + im.last_delivery_error + ")"));
    return;
  }
  im.in_txn = false;
  im.consecutive_aborts = 0;
  add_stats(0, 0, im.batch.size(), 1, 0);
  im.batch.clear();
  if (cfg_.mirror_offset_commit) {
    // See eos_stage_config::mirror_offset_commit: the mock cluster forgets
    // transactional offset commits.
    if (auto err = rd_kafka_commit(im.consumer.get(), offsets.get(), 0))
      log::warn("eos_offset_mirror_failed",
                {{"stage", cfg_.transactional_id},
                 {"offsets", describe(offsets.get())},
                 {"error", rd_kafka_err2name(err)}});
  }
}

void transactional_stage::abort_and_rewind(const std::string& reason) {
  auto& im = *impl_;
  if (im.in_txn) {
    txn_call(cfg_.transactional_id, "abort_transaction",
             [&] { return rd_kafka_abort_transaction(im.producer.get(), -1); });
    im.in_txn = false;
  }
  // Back to where the batch started — the last committed positions — for
  // the partitions this stage still owns.
  auto spans = spans_of(im.batch);
  im.batch.clear();
  rd_kafka_topic_partition_list_t* owned_raw = nullptr;
  rd_kafka_assignment(im.consumer.get(), &owned_raw);
  topic_partition_list_ptr owned{owned_raw};
  topic_partition_list_ptr rewind{
      rd_kafka_topic_partition_list_new(static_cast<int>(spans.size()))};
  for (auto& [tp, span] : spans)
    if (owned && rd_kafka_topic_partition_list_find(
                     owned.get(), tp.first.c_str(), tp.second) != nullptr)
      rd_kafka_topic_partition_list_add(rewind.get(), tp.first.c_str(),
                                        tp.second)
          ->offset = span.first;
  if (rewind->cnt > 0) {
    if (error_ptr e{
            rd_kafka_seek_partitions(im.consumer.get(), rewind.get(), 5000)})
      // Cannot tell where the consumer stands: starting over from the
      // committed offsets is the only safe way on.
      throw stage_failure{"rewind after abort: " + describe(e.get())};
    for (int i = 0; i < rewind->cnt; ++i)
      if (rewind->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw stage_failure{"rewind " + describe(rewind.get()) + ": " +
                            rd_kafka_err2name(rewind->elems[i].err)};
  }
  add_stats(0, 0, 0, 0, 1);
  log::warn("eos_transaction_aborted", {{"stage", cfg_.transactional_id},
                                        {"reason", reason},
                                        {"rewound", describe(rewind.get())}});
  if (++im.consecutive_aborts >= max_consecutive_aborts)
    throw stage_failure{"gave up after " +
                        std::to_string(max_consecutive_aborts) +
                        " consecutive aborted transactions: " + reason};
}

} // namespace distiller::kafka
