#pragma once

/// Hybrid retrieval's last steps, as pure functions on plain data: fusing the
/// dense (vector index) and sparse (PostgreSQL full-text) rankings by
/// reciprocal rank, and extracting a short extractive answer from the fused
/// hits' texts. The query actor calls them; the unit tests call them without
/// any service.
///
/// Reciprocal rank fusion: an id at 1-based rank r in a list earns
/// 1 / (k + r) from that list; its fused score is the sum over both lists.
/// Ranks, not raw scores, are combined, because cosine similarities and
/// ts_rank_cd values are not on one scale. k (default 60) damps the head of
/// each list: a larger k lets agreement between the lists outweigh a single
/// first place.
///
/// Answer extraction: the hit texts are split into sentences; a sentence
/// scores the summed weight of the question's distinct content terms it
/// contains (stop words dropped, stemmed as the embedder does — see
/// text_terms.hpp), each term weighted by ln(1 + N / df) over the N
/// candidate sentences, so a rare question word counts more than one that
/// appears everywhere; hits further down the ranking are discounted
/// (÷ (1 + 0.15 × hit rank)). The best `max_sentences` are shown in reading
/// order (by hit, then position), each run of sentences followed by
/// "[source: <filename or chunk id>]".
///
/// Threads: pure functions; safe from any thread.
/// Failure: std::invalid_argument for k < 1 or max_sentences == 0.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/documents/service.hpp"

namespace distiller::documents::search {

/// One id of the fused ranking.
struct fused_hit {
  int64_t id = 0;
  double score = 0;
  /// 1-based rank in each input list; 0 when the id is not in it.
  int dense_rank = 0;
  int sparse_rank = 0;
};

/// Reciprocal rank fusion of two rankings (best first), each list's
/// contribution multiplied by its weight (w / (k + r)). An id repeated in
/// one list counts at its first (best) rank only. Result: every id of either
/// list, by fused score descending; ties go to the id with the better single
/// rank, then the one the dense list ranks higher, then the smaller id (so
/// the order is fully deterministic). Throws std::invalid_argument for
/// k < 1 or a negative weight.
std::vector<fused_hit> fuse(const std::vector<int64_t>& dense,
                            const std::vector<int64_t>& sparse, int k = 60,
                            double dense_weight = 1.0,
                            double sparse_weight = 1.0);

/// What makes two passages the same source: the text with ASCII letters
/// lower-cased and every run of white space one space, trimmed — so the
/// same content uploaded twice (or re-encoded line ends) is shown once.
std::string passage_key(std::string_view text);

/// The text shown when there are no hits.
inline constexpr std::string_view no_documents_answer =
    "No relevant documents found.";

/// Splits a text into sentences: after '.', '!' or '?' followed by white
/// space and a capital letter, digit or quote (so "e.g. this" and "3.5"
/// stay whole), and at blank lines. Sentences are trimmed, white space runs
/// collapsed to one space; empty ones are dropped.
std::vector<std::string> split_sentences(std::string_view text);

/// An extractive answer to `question` from `hits` (ranked best first): see
/// above. No hits → no_documents_answer. When no sentence shares a content
/// term with the question, the first sentence of the best hit is shown.
std::string extract_answer(const std::string& question,
                           const std::vector<source_hit>& hits,
                           size_t max_sentences = 3);

} // namespace distiller::documents::search
