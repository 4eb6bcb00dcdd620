#pragma once

/// How the document store spells its values for PostgreSQL and reads them
/// back: UUID checks, `real[]` and `bigint[]` literals, and the JSON it
/// sends (outbox headers, chunk batches). Pure functions, no database.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/documents/document_store.hpp"
#include "runtime/core/ids.hpp"

namespace distiller::documents {

/// Whether `text` is a UUID in the canonical 8-4-4-4-12 form (any case);
/// other spellings PostgreSQL would accept count as unknown ids
/// (runtime/core/ids.hpp).
using distiller::is_uuid;

/// A `real[]` literal ("{0.5,-1.00000001e-05}") with 9 significant digits,
/// so every float reads back bit-exact. Throws std::invalid_argument naming
/// the index of a NaN or infinite value.
std::string real_array_literal(const std::vector<float>& values);

/// Parses PostgreSQL's text output of a one-dimensional `real[]`. Throws
/// std::invalid_argument for anything else (NULL elements included).
std::vector<float> parse_real_array(std::string_view text);

/// A `bigint[]` literal ("{1,2,3}").
std::string bigint_array_literal(const std::vector<int64_t>& values);

/// Kafka headers as a JSON object of strings, and back
/// (bridges/postgres/outbox.hpp).
using postgres::headers_from_json;
using postgres::headers_to_json;

/// Chunks as a JSON array of {"chunk_index", "text", "token_count"}, the
/// input of one INSERT … SELECT FROM jsonb_to_recordset.
std::string chunks_to_json(const std::vector<chunk_input>& chunks);

} // namespace distiller::documents
