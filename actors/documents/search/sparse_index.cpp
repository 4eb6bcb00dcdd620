#include "actors/documents/search/sparse_index.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <xapian.h>

#include "actors/documents/search/text_terms.hpp"

namespace distiller::documents::search {

namespace {

/// text_terms.hpp's stop words, for Xapian's term generator and parser.
class stop_words final : public Xapian::Stopper {
 public:
  bool operator()(const std::string& term) const override {
    return is_stop_word(term);
  }
};

/// The Xapian metadata key of commit()'s bytes.
constexpr const char* meta_key = "distiller.snapshot";

std::string id_term(int64_t id) {
  return "Q" + std::to_string(id);
}

int64_t parse_id(const std::string& data) {
  int64_t id = 0;
  std::from_chars(data.data(), data.data() + data.size(), id);
  return id;
}

} // namespace

struct sparse_index::impl {
  Xapian::WritableDatabase db;
  Xapian::Stem stemmer{"english"};
  stop_words stopper;
  Xapian::TermGenerator generator;
  Xapian::QueryParser parser;
  /// The in-memory backend's metadata (it has no commits).
  std::string meta;

  explicit impl(Xapian::WritableDatabase database) : db(std::move(database)) {
    generator.set_stemmer(stemmer);
    generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    generator.set_stopper(&stopper);
    generator.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
    parser.set_stemmer(stemmer);
    parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    parser.set_stopper(&stopper);
    parser.set_default_op(Xapian::Query::OP_OR);
    parser.set_database(db);
  }
};

sparse_index::sparse_index(sparse_index_config cfg)
    : cfg_(cfg), impl_(std::make_unique<impl>(Xapian::WritableDatabase{
                     std::string{}, Xapian::DB_BACKEND_INMEMORY})) {}

sparse_index::sparse_index(sparse_index_config cfg,
                           const std::filesystem::path& dir)
    : cfg_(cfg), dir_(dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir.parent_path(), ec);
  try {
    impl_ = std::make_unique<impl>(Xapian::WritableDatabase{
        dir.string(), Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS});
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: cannot open " + dir.string() +
                             ": " + e.get_description());
  }
}

void sparse_index::remove_files(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

sparse_index::~sparse_index() = default;

bool sparse_index::add_locked(int64_t id, std::string_view text) {
  auto term = id_term(id);
  if (impl_->db.term_exists(term))
    return false;
  Xapian::Document doc;
  doc.set_data(std::to_string(id));
  doc.add_boolean_term(term);
  impl_->generator.set_document(doc);
  impl_->generator.index_text_without_positions(std::string{text});
  impl_->db.replace_document(term, doc);
  return true;
}

bool sparse_index::add(int64_t id, std::string_view text) {
  std::lock_guard<std::mutex> guard{mtx_};
  try {
    return add_locked(id, text);
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: adding chunk " +
                             std::to_string(id) + ": " + e.get_description());
  }
}

size_t sparse_index::add_batch(
    const std::vector<std::pair<int64_t, std::string>>& items) {
  std::lock_guard<std::mutex> guard{mtx_};
  size_t added = 0;
  try {
    for (auto& [id, text] : items)
      added += add_locked(id, text) ? 1 : 0;
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: adding a batch: " +
                             e.get_description());
  }
  return added;
}

sparse_result sparse_index::search(std::string_view question, size_t k) const {
  std::lock_guard<std::mutex> guard{mtx_};
  sparse_result out;
  try {
    // Stop words go first, here: Xapian's parser keeps them when a question
    // has nothing else. No operator syntax: flags 0 reads every word as a
    // word.
    std::string words;
    for (auto& w : tokenize(question))
      if (!is_stop_word(w))
        words += (words.empty() ? "" : " ") + w;
    auto query = impl_->parser.parse_query(words, 0);
    std::vector<std::string> terms{query.get_unique_terms_begin(),
                                   query.get_unique_terms_end()};
    out.terms = terms.size();
    if (out.terms == 0 || k == 0)
      return out;
    Xapian::Enquire enquire{impl_->db};
    enquire.set_weighting_scheme(
        Xapian::BM25Weight{cfg_.k1, 0, 1, cfg_.b, 0.5});
    enquire.set_query(query);
    auto mset = enquire.get_mset(0, static_cast<Xapian::doccount>(k));
    for (auto i = mset.begin(); i != mset.end(); ++i)
      out.hits.push_back(
          {parse_id(i.get_document().get_data()), i.get_weight()});
    // Relevance: the share of the question's idf mass that one of the best
    // hits contains. A word the corpus never saw weighs like the rarest
    // one, so a question on another subject — all of whose words but one
    // or two are unknown here — covers little of itself, however well it
    // matches those.
    auto n = static_cast<double>(impl_->db.get_doccount());
    auto idf = [&](const std::string& t) {
      auto df = static_cast<double>(impl_->db.get_termfreq(t));
      return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    };
    double total = 0;
    for (auto& t : terms)
      total += idf(t);
    int looked = 0;
    for (auto i = mset.begin(); i != mset.end() && looked < 3; ++i, ++looked) {
      double matched = 0;
      for (auto t = enquire.get_matching_terms_begin(i);
           t != enquire.get_matching_terms_end(i); ++t)
        matched += idf(*t);
      if (total > 0)
        out.matched_share = std::max(out.matched_share, matched / total);
    }
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: searching: " + e.get_description());
  }
  return out;
}

bool sparse_index::contains(int64_t id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  try {
    return impl_->db.term_exists(id_term(id));
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: looking up chunk " +
                             std::to_string(id) + ": " + e.get_description());
  }
}

size_t sparse_index::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  try {
    return impl_->db.get_doccount();
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: counting: " + e.get_description());
  }
}

void sparse_index::commit(std::string_view meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (dir_.empty()) {
    impl_->meta = meta;
    return;
  }
  try {
    impl_->db.set_metadata(meta_key, std::string{meta});
    impl_->db.commit();
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: committing " + dir_.string() +
                             ": " + e.get_description());
  }
}

std::string sparse_index::meta() const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (dir_.empty())
    return impl_->meta;
  try {
    return impl_->db.get_metadata(meta_key);
  } catch (const Xapian::Error& e) {
    throw sparse_index_error("sparse index: reading the metadata of " +
                             dir_.string() + ": " + e.get_description());
  }
}

} // namespace distiller::documents::search
