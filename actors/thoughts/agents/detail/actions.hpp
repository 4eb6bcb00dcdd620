#pragma once

/// Action items in a thought (internal), shared by the value agent (to
/// count them) and the plan agent (to list them). An action starts at an
/// imperative verb at the head of a sentence ("Call the bank"), after
/// "let's", after a to-do label ("TODO: …"), or after an obligation or
/// intention ("I need to", "we should", "must", "have to", "remember to",
/// "don't forget to", "I'll", "going to", "want to" …) that is not negated
/// and is followed by a verb. It runs to the end of its clause: "and" or a
/// comma before another imperative verb starts the next action; "because",
/// "but", "if" … end it. Questions are not actions.
///
/// Threads: pure function. Failure: never throws on a prepared thought.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "actors/thoughts/agents/detail/prepared.hpp"

namespace distiller::thoughts::detail {

enum class action_strength {
  weak,   // intention: want to, going to, plan to, would like to
  normal, // imperative, should, let's, I'll, to-do label
  strong, // obligation: must, need to, have to, remember to, don't forget
};

enum class priority_level { low = 0, medium = 1, high = 2 };

const char* priority_name(priority_level p) noexcept;

struct action_item {
  /// A short imperative phrase: the cue and any date phrase removed,
  /// capitalised, at most 80 characters ("Send the report").
  std::string text;
  /// The date phrase of the action's clause, if any.
  std::optional<date_mention> due;
  priority_level priority = priority_level::medium;
  action_strength strength = action_strength::normal;
  /// What made it an action: "imperative 'send'", "obligation 'need to'".
  std::string cue;
  /// Index of its sentence in prepared_thought::sentences.
  size_t sentence = 0;
  /// Urgency words in its sentence ("asap", "urgent" …).
  bool urgent = false;
};

/// At most 10 actions, in text order, without duplicates. Priority: high
/// for an urgency word or a due date at most 1 day after the reference day;
/// medium for a due date within 7 days or a normal or strong cue; low for
/// intentions.
std::vector<action_item> find_actions(const prepared_thought& p);

} // namespace distiller::thoughts::detail
