// The stage's thread (transactional_stage_impl.hpp): poll a batch, run the
// transform, produce, commit the offsets inside the transaction — or abort
// and rewind.

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/transactional_stage_impl.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

using detail::clock_type;
using detail::crash_registration_grace;
using detail::crash_signal;
using detail::describe;
using detail::error_ptr;
using detail::group_metadata_ptr;
using detail::max_consecutive_aborts;
using detail::max_retries;
using detail::stage_failure;

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
