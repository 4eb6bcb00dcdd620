// The five built-in agents of the thought pipeline, run the way the
// pipeline runs them: in order, each seeing the results before it. The
// reference time is 2026-12-01T09:00:00Z, a Tuesday.

#include "actors/thoughts/agents/builtin.hpp"

#include <cmath>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/thoughts/agents/results.hpp"
#include "actors/thoughts/agents/text.hpp"

using namespace distiller::thoughts;
namespace json = boost::json;
using ::testing::Contains;
using ::testing::HasSubstr;

namespace {

constexpr const char* created = "2026-12-01T09:00:00Z";

agent_input input(const std::string& text) {
  agent_input in;
  in.thought_id = "t-1";
  in.user_id = "u-1";
  in.text = text;
  in.created_at = created;
  return in;
}

/// All five results, each agent given the ones before it.
std::array<json::object, agent_count> run_all(const std::string& text) {
  agent_input in = input(text);
  for (auto k : all_agents)
    in.previous[static_cast<size_t>(k)] = make_builtin_agent(k)->run(in);
  return in.previous;
}

const json::object& result(const std::array<json::object, agent_count>& all,
                           agent_kind k) {
  return all[static_cast<size_t>(k)];
}

std::string str(const json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

double num(const json::value& v) {
  return v.to_number<double>();
}

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& x : v.as_array())
    out.emplace_back(x.as_string());
  return out;
}

/// The checks every result must pass, whatever the text.
void expect_well_formed(const std::array<json::object, agent_count>& all) {
  for (auto k : all_agents) {
    const auto& r = result(all, k);
    EXPECT_EQ(check_result(k, r), "")
        << agent_name(k) << ": " << json::serialize(r);
    EXPECT_TRUE(text::is_valid_utf8(json::serialize(r))) << agent_name(k);
  }
  const auto& c = result(all, agent_kind::classify);
  double sum = 0;
  std::string best;
  double best_score = -1;
  for (const auto& [name, score] : c.at("scores").as_object()) {
    const double x = num(score);
    EXPECT_GE(x, 0.0);
    EXPECT_LE(x, 1.0);
    sum += x;
    if (x > best_score) {
      best_score = x;
      best = std::string(name);
    }
  }
  EXPECT_EQ(c.at("scores").as_object().size(), 5u);
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_NEAR(num(c.at("scores").at(str(c, "category"))), best_score, 1e-12);
  EXPECT_LE(num(c.at("confidence")), best_score);
  EXPECT_FALSE(c.at("signals").as_array().empty());
  const auto& a = result(all, agent_kind::analyse);
  EXPECT_LE(a.at("keywords").as_array().size(), 8u);
  const auto& sentiment = a.at("sentiment").as_object();
  EXPECT_GE(num(sentiment.at("score")), -1.0);
  EXPECT_LE(num(sentiment.at("score")), 1.0);
  const auto& s = result(all, agent_kind::summarise);
  EXPECT_LE(text::char_count(str(s, "title")), 60u);
  EXPECT_EQ(str(s, "category"), str(c, "category"));
  EXPECT_EQ(str(s, "priority"),
            str(result(all, agent_kind::value), "priority"));
  EXPECT_EQ(s.at("action_count").as_int64(),
            static_cast<int64_t>(
                result(all, agent_kind::plan).at("actions").as_array().size()));
}

std::string category_of(const std::string& text) {
  return str(classify_thought(input(text)), "category");
}

// -- names -------------------------------------------------------------------

TEST(agents, names_and_kinds) {
  EXPECT_EQ(agent_name(agent_kind::classify), "classify");
  EXPECT_EQ(agent_name(agent_kind::summarise), "summarise");
  EXPECT_EQ(result_name(agent_kind::classify), "classification");
  EXPECT_EQ(result_name(agent_kind::analyse), "analysis");
  EXPECT_EQ(result_name(agent_kind::value), "value");
  EXPECT_EQ(result_name(agent_kind::plan), "plan");
  EXPECT_EQ(result_name(agent_kind::summarise), "summary");
  for (auto k : all_agents) {
    agent_kind parsed = agent_kind::classify;
    ASSERT_TRUE(parse_agent_kind(agent_name(k), parsed));
    EXPECT_EQ(parsed, k);
    EXPECT_EQ(agent_at(agent_step(k)), k);
    const auto a = make_builtin_agent(k);
    EXPECT_EQ(a->kind(), k);
    EXPECT_EQ(a->backend(), "builtin");
  }
  agent_kind unchanged = agent_kind::plan;
  EXPECT_FALSE(parse_agent_kind("classification", unchanged));
  EXPECT_FALSE(parse_agent_kind("", unchanged));
  EXPECT_EQ(unchanged, agent_kind::plan);
}

// -- classify ----------------------------------------------------------------

TEST(agents, classify_clear_cases) {
  EXPECT_EQ(category_of("Call the plumber tomorrow and pay the electricity "
                        "bill."),
            "task");
  EXPECT_EQ(category_of("I need to renew my passport before the trip."),
            "task");
  EXPECT_EQ(category_of("Why does the build take so long on the CI machine?"),
            "question");
  EXPECT_EQ(category_of("How do vaccines actually train the immune system?"),
            "question");
  EXPECT_EQ(category_of("I'm really worried that we will miss the deadline "
                        "and lose the client."),
            "concern");
  EXPECT_EQ(category_of("What if the server crashes during the demo?"),
            "concern");
  EXPECT_EQ(category_of("What if we built an app that reminds people to "
                        "drink water?"),
            "idea");
  EXPECT_EQ(category_of("Idea: a podcast where chefs explain one spice per "
                        "episode."),
            "idea");
  EXPECT_EQ(category_of("Today I realised that I have been too hard on "
                        "myself. Looking back, the project went well."),
            "reflection");
  EXPECT_EQ(category_of("I feel grateful for my friends this year."),
            "reflection");
  EXPECT_EQ(category_of("Warum ist der Himmel blau?"), "question");
  EXPECT_EQ(category_of("J'ai peur que le projet échoue."), "concern");
  EXPECT_EQ(category_of("Ich habe Angst vor der Prüfung."), "concern");
  EXPECT_EQ(category_of("明日は雨が降るでしょうか"), "question");
}

TEST(agents, classify_explains_itself) {
  auto signals = [](const std::string& t) {
    return strings(classify_thought(input(t)).at("signals"));
  };
  EXPECT_THAT(signals("Why is it late?"), Contains("question mark"));
  EXPECT_THAT(signals("Why is it late?"), Contains("wh-word 'why'"));
  EXPECT_THAT(signals("Call mom tonight."), Contains("imperative 'call'"));
  EXPECT_THAT(signals("I'm afraid of the exam."),
              Contains("worry word 'afraid'"));
  EXPECT_THAT(signals("What if we sold stickers?"),
              Contains("idea phrase 'what if'"));
  EXPECT_THAT(signals("I realised it was fine."),
              Contains("reflection phrase 'i realised'"));
  EXPECT_THAT(signals("I need to pay rent by Friday."),
              Contains("deadline 'by friday'"));
  EXPECT_THAT(signals("I need to pay rent."), Contains("obligation 'need to'"));
}

TEST(agents, classify_confidence_is_lower_when_categories_compete) {
  const auto clear = classify_thought(
      input("Call the bank, pay the rent and book the dentist by Friday."));
  const auto mixed = classify_thought(
      input("I'm worried about the exam. Should I study tonight?"));
  EXPECT_GT(num(clear.at("confidence")), 0.9);
  EXPECT_LT(num(mixed.at("confidence")), num(clear.at("confidence")) - 0.3);
}

// -- edge texts --------------------------------------------------------------

TEST(agents, empty_and_blank_texts_give_valid_empty_results) {
  for (const std::string t : {"", "   ", "\n\t \r\n", "..."}) {
    SCOPED_TRACE("text: \"" + t + "\"");
    const auto all = run_all(t);
    expect_well_formed(all);
    const auto& c = result(all, agent_kind::classify);
    EXPECT_EQ(str(c, "category"), "reflection");
    EXPECT_LT(num(c.at("confidence")), 0.3);
    const auto& a = result(all, agent_kind::analyse);
    EXPECT_EQ(a.at("words").as_int64(), 0);
    EXPECT_TRUE(a.at("keywords").as_array().empty());
    EXPECT_TRUE(a.at("entities").as_array().empty());
    EXPECT_EQ(str(a.at("sentiment").as_object(), "label"), "neutral");
    const auto& p = result(all, agent_kind::plan);
    EXPECT_TRUE(p.at("actions").as_array().empty());
    EXPECT_TRUE(p.at("next_step").is_null());
    EXPECT_EQ(str(result(all, agent_kind::value), "priority"), "low");
    EXPECT_EQ(result(all, agent_kind::summarise).at("action_count"), 0);
  }
  const auto blank = run_all("  ");
  EXPECT_EQ(result(blank, agent_kind::analyse).at("sentences").as_int64(), 0);
  EXPECT_EQ(str(result(blank, agent_kind::summarise), "summary"), "");
  EXPECT_EQ(str(result(blank, agent_kind::summarise), "title"), "");
}

TEST(agents, a_single_emoji) {
  const auto all = run_all("🙂");
  expect_well_formed(all);
  EXPECT_EQ(result(all, agent_kind::analyse).at("words").as_int64(), 0);
  EXPECT_EQ(result(all, agent_kind::analyse).at("sentences").as_int64(), 1);
  EXPECT_EQ(str(result(all, agent_kind::summarise), "title"), "🙂");
  EXPECT_EQ(str(result(all, agent_kind::summarise), "summary"), "🙂");
}

TEST(agents, ten_thousand_characters) {
  const std::string paragraph =
      "I need to finish the quarterly report for Acme Inc by Friday. "
      "The numbers look good but the marketing budget is worrying. "
      "What if we moved the launch to next month? "
      "Today I realised that the team works better with fewer meetings. ";
  std::string text;
  while (text.size() + paragraph.size() <= 10000)
    text += paragraph;
  while (text.size() < 10000)
    text += "x";
  ASSERT_EQ(text.size(), 10000u);
  const auto all = run_all(text);
  expect_well_formed(all);
  const auto& a = result(all, agent_kind::analyse);
  EXPECT_GT(a.at("words").as_int64(), 1400);
  EXPECT_GT(a.at("sentences").as_int64(), 100);
  EXPECT_FALSE(a.at("keywords").as_array().empty());
  const auto& p = result(all, agent_kind::plan);
  // The same action repeated is listed once.
  EXPECT_EQ(p.at("actions").as_array().size(), 1u);
  const auto& s = result(all, agent_kind::summarise);
  EXPECT_LE(text::char_count(str(s, "summary")), 600u);
  EXPECT_FALSE(str(s, "summary").empty());
}

TEST(agents, german_french_and_japanese_get_real_counts) {
  const auto de = run_all("Ich muss morgen den Bericht an Frau Müller "
                          "schicken. Das Wetter in Berlin ist heute schön.");
  expect_well_formed(de);
  const auto& ade = result(de, agent_kind::analyse);
  EXPECT_EQ(ade.at("words").as_int64(), 16);
  EXPECT_EQ(ade.at("sentences").as_int64(), 2);
  EXPECT_EQ(str(ade, "language"), "de");
  EXPECT_EQ(str(ade.at("sentiment").as_object(), "label"), "positive");
  EXPECT_THAT(json::serialize(ade.at("dates")), HasSubstr("2026-12-02"));
  EXPECT_THAT(json::serialize(ade.at("entities")),
              HasSubstr(R"({"text":"Frau Müller","type":"person"})"));
  EXPECT_THAT(json::serialize(ade.at("entities")),
              HasSubstr(R"({"text":"Berlin","type":"place"})"));

  const auto fr = run_all("Je dois appeler Marie demain. J'ai peur que le "
                          "projet échoue à Paris.");
  expect_well_formed(fr);
  EXPECT_EQ(result(fr, agent_kind::analyse).at("words").as_int64(), 13);
  EXPECT_EQ(result(fr, agent_kind::analyse).at("sentences").as_int64(), 2);

  const auto ja =
      run_all("明日までに報告書を送らなければなりません。心配です。");
  expect_well_formed(ja);
  const auto& aja = result(ja, agent_kind::analyse);
  EXPECT_EQ(aja.at("sentences").as_int64(), 2);
  EXPECT_GE(aja.at("words").as_int64(), 8); // dictionary words, not chars
  EXPECT_LE(aja.at("words").as_int64(), 20);
  EXPECT_EQ(str(aja, "language"), "ja");
  EXPECT_EQ(str(result(ja, agent_kind::classify), "category"), "concern");
  EXPECT_THAT(json::serialize(aja.at("dates")), HasSubstr("2026-12-02"));
  EXPECT_EQ(str(result(ja, agent_kind::summarise), "title"),
            "明日までに報告書を送らなければなりません");
}

TEST(agents, invalid_utf8_is_repaired_before_anything_else) {
  const std::string bad = "Call \xff\xfe the bank \xc3( tomorrow \xed\xa0\x80!";
  const auto all = run_all(bad);
  expect_well_formed(all);
  const std::string summary =
      str(result(all, agent_kind::summarise), "summary");
  EXPECT_THAT(summary, HasSubstr("\xEF\xBF\xBD")); // U+FFFD
  EXPECT_TRUE(text::is_valid_utf8(summary));
  EXPECT_EQ(str(result(all, agent_kind::classify), "category"), "task");
  const auto& actions = result(all, agent_kind::plan).at("actions").as_array();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].at("due"), "2026-12-02");
}

// -- determinism -------------------------------------------------------------

TEST(agents, the_same_input_gives_byte_identical_json) {
  const std::vector<std::string> texts = {
      "I need to call the bank by Friday and book the dentist.",
      "What if we built an app? Maybe next week. Email anna@example.com.",
      "Ich habe Angst vor der Prüfung am 12. März.",
      "明日までに報告書を送らなければなりません。",
      "",
      "bad \xff bytes"};
  for (const auto& t : texts) {
    std::vector<std::string> first, second;
    for (const auto& r : run_all(t))
      first.push_back(json::serialize(r));
    for (const auto& r : run_all(t))
      second.push_back(json::serialize(r));
    EXPECT_EQ(first, second) << t;
  }
  // Concurrent runs (thread-local ICU iterators) agree too.
  const std::string t = texts[1];
  std::vector<std::string> reference;
  for (const auto& r : run_all(t))
    reference.push_back(json::serialize(r));
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      for (int n = 0; n < 5; ++n) {
        got[i].clear();
        for (const auto& r : run_all(t))
          got[i].push_back(json::serialize(r));
      }
    });
  for (auto& th : threads)
    th.join();
  for (const auto& g : got)
    EXPECT_EQ(g, reference);
}

TEST(agents, results_depend_on_created_at_not_on_the_clock) {
  agent_input in = input("Send the report by Friday.");
  in.created_at = "2030-06-03T10:00:00Z"; // a Monday
  const auto plan = plan_thought(in);
  EXPECT_EQ(plan.at("actions").at(0).at("due"), "2030-06-07");
  in.created_at = "not a time";
  const auto undated = plan_thought(in);
  EXPECT_TRUE(undated.at("actions").at(0).at("due").is_null());
  EXPECT_EQ(undated.at("actions").at(0).at("due_text"), "by Friday");
}

// -- analyse -----------------------------------------------------------------

TEST(agents, analyse_keywords) {
  const auto a = analyse_thought(
      input("The quarterly sales report is late. The sales report needs new "
            "charts, and the quarterly numbers need a review."));
  const auto& kws = a.at("keywords").as_array();
  ASSERT_FALSE(kws.empty());
  EXPECT_LE(kws.size(), 8u);
  EXPECT_EQ(num(kws[0].at("score")), 1.0);
  std::vector<std::string> terms;
  for (size_t i = 0; i < kws.size(); ++i) {
    terms.emplace_back(kws[i].at("term").as_string());
    if (i > 0) { // best first
      EXPECT_LE(num(kws[i].at("score")), num(kws[i - 1].at("score")));
    }
  }
  EXPECT_EQ(terms[0], "quarterly sales report");
  for (const auto& term : terms) {
    EXPECT_NE(term, "the");
    EXPECT_EQ(term.find(" the "), std::string::npos);
  }
}

TEST(agents, analyse_sentiment_with_negation_and_intensifiers) {
  auto sentiment = [](const std::string& t) {
    return analyse_thought(input(t)).at("sentiment").as_object();
  };
  EXPECT_EQ(str(sentiment("This is good."), "label"), "positive");
  EXPECT_EQ(str(sentiment("This is not good."), "label"), "negative");
  EXPECT_EQ(sentiment("This is not good.").at("negative"), 1);
  EXPECT_EQ(str(sentiment("That wasn't bad at all."), "label"), "positive");
  EXPECT_GT(num(sentiment("This is very good.").at("score")),
            num(sentiment("This is good.").at("score")));
  EXPECT_LT(num(sentiment("This is slightly good.").at("score")),
            num(sentiment("This is good.").at("score")));
  EXPECT_EQ(str(sentiment("The food was great but the service was "
                          "terrible."),
                "label"),
            "mixed");
  EXPECT_EQ(str(sentiment("The meeting is at noon."), "label"), "neutral");
  EXPECT_EQ(num(sentiment("The meeting is at noon.").at("score")), 0.0);
  const auto sad = sentiment("I feel sad, tired and worried.");
  EXPECT_EQ(str(sad, "label"), "negative");
  EXPECT_EQ(sad.at("negative"), 3);
  EXPECT_LT(num(sad.at("score")), -0.5);
}

TEST(agents, analyse_entities) {
  const auto a = analyse_thought(
      input("Email anna.berg@example.com and ask Dr. Smith about the Acme "
            "Inc contract. We fly to Paris on Monday; see "
            "https://example.org/trip and ping @dave_ops. Call Sarah."));
  const std::string e = json::serialize(a.at("entities"));
  EXPECT_THAT(e,
              HasSubstr(R"({"text":"anna.berg@example.com","type":"email"})"));
  EXPECT_THAT(e, HasSubstr(R"({"text":"Dr. Smith","type":"person"})"));
  EXPECT_THAT(e, HasSubstr(R"({"text":"Acme Inc","type":"organization"})"));
  EXPECT_THAT(e, HasSubstr(R"({"text":"Paris","type":"place"})"));
  EXPECT_THAT(e,
              HasSubstr(R"({"text":"https://example.org/trip","type":"url"})"));
  EXPECT_THAT(e, HasSubstr(R"({"text":"@dave_ops","type":"handle"})"));
  EXPECT_THAT(e, HasSubstr(R"({"text":"Sarah","type":"person"})"));
  // Sentence openers, weekdays and the email's parts are not entities.
  EXPECT_THAT(e, ::testing::Not(HasSubstr("\"Email")));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("\"We\"")));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("Monday")));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("\"Call")));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("\"example.com\"")));
  // Month names and link parts are neither entities nor keywords.
  const auto b = analyse_thought(
      input("The rent goes up in January, says john@rent.co about the lease "
            "renewal."));
  const std::string eb = json::serialize(b.at("entities"));
  EXPECT_THAT(eb, ::testing::Not(HasSubstr("January")));
  EXPECT_THAT(eb, HasSubstr(R"({"text":"john@rent.co","type":"email"})"));
  const std::string kb = json::serialize(b.at("keywords"));
  EXPECT_THAT(kb, ::testing::Not(HasSubstr("john")));
  EXPECT_THAT(kb, ::testing::Not(HasSubstr("rent.co")));
  EXPECT_THAT(kb, ::testing::Not(HasSubstr("january")));
  EXPECT_THAT(kb, HasSubstr("lease renewal"));
}

TEST(agents, analyse_dates_and_numbers) {
  const auto a = analyse_thought(
      input("Pay $20 by Friday, then 3.5 kg of flour on 12 March, 1,000 "
            "flyers and a 50% discount in 3 days."));
  EXPECT_EQ(json::serialize(a.at("dates")),
            R"([{"text":"Friday","date":"2026-12-04"},)"
            R"({"text":"12 March","date":"2027-03-12"},)"
            R"({"text":"in 3 days","date":"2026-12-04"}])");
  const auto& n = a.at("numbers").as_array();
  ASSERT_EQ(n.size(), 4u);
  EXPECT_EQ(n[0].at("text"), "$20");
  EXPECT_EQ(n[0].at("value"), 20);
  EXPECT_EQ(n[1].at("text"), "3.5");
  EXPECT_EQ(num(n[1].at("value")), 3.5);
  EXPECT_EQ(n[2].at("text"), "1,000");
  EXPECT_EQ(n[2].at("value"), 1000);
  EXPECT_EQ(n[3].at("text"), "50%");
  EXPECT_EQ(n[3].at("value"), 50);
  EXPECT_EQ(a.at("words").as_int64(), 21);
  EXPECT_EQ(a.at("sentences").as_int64(), 1);
  // German writes decimals with a comma.
  const auto de = analyse_thought(input("Es kostet 3,5 Euro und 1.000 Stück."));
  EXPECT_EQ(num(de.at("numbers").at(0).at("value")), 3.5);
  EXPECT_EQ(de.at("numbers").at(1).at("value"), 1000);
}

// -- value -------------------------------------------------------------------

TEST(agents, value_scores_urgent_tasks_high_and_reflections_low) {
  const auto task = run_all("I must pay the rent tomorrow, it is urgent!");
  const auto& vt = result(task, agent_kind::value);
  EXPECT_EQ(str(vt, "priority"), "high");
  EXPECT_GT(num(vt.at("urgency")), 0.7);
  EXPECT_GT(num(vt.at("actionability")), 0.5);
  const auto musing = run_all("Today I realised how much I enjoy quiet "
                              "mornings. Looking back, it was a good year.");
  const auto& vr = result(musing, agent_kind::value);
  EXPECT_EQ(str(vr, "priority"), "low");
  EXPECT_LE(num(vr.at("urgency")), 0.2);
  EXPECT_LT(num(vr.at("score")), num(vt.at("score")));
  const auto worry = run_all("I'm scared the surgery will go wrong and I "
                             "can't stop worrying.");
  EXPECT_GT(num(result(worry, agent_kind::value).at("importance")),
            num(vr.at("importance")) + 0.2);
  const auto someday = run_all("Someday I should learn the piano, no rush.");
  EXPECT_LT(num(result(someday, agent_kind::value).at("urgency")), 0.15);
}

TEST(agents, value_reasons_name_what_moved_each_score) {
  const auto all = run_all("Call the bank tomorrow about the mortgage asap.");
  const auto reasons = strings(result(all, agent_kind::value).at("reasons"));
  ASSERT_FALSE(reasons.empty());
  const std::regex shape(
      R"(^(importance|urgency|actionability) [+-][01]\.\d\d: .+$)");
  for (const auto& r : reasons)
    EXPECT_TRUE(std::regex_match(r, shape)) << r;
  EXPECT_THAT(reasons, Contains("urgency +0.50: due tomorrow ('tomorrow')"));
  EXPECT_THAT(reasons, Contains("urgency +0.20: urgency words 'asap'"));
  EXPECT_THAT(reasons, Contains("importance +0.16: stakes words 'bank', "
                                "'mortgage'"));
}

TEST(agents, value_reads_the_earlier_results) {
  agent_input in = input("The meeting is on the third floor.");
  const auto plain = value_thought(in);
  in.previous[0] = json::object{{"category", "concern"},
                                {"confidence", 1.0},
                                {"scores", json::object{{"concern", 1.0}}},
                                {"signals", json::array{"test"}}};
  const auto told = value_thought(in);
  EXPECT_GT(num(told.at("importance")), num(plain.at("importance")));
  EXPECT_THAT(strings(told.at("reasons")),
              Contains("importance +0.30: concern (confidence 1.00)"));
  // A malformed earlier result is ignored, not trusted.
  in.previous[0] = json::object{{"category", "urgent!!"}};
  EXPECT_EQ(json::serialize(value_thought(in)), json::serialize(plain));
}

// -- plan --------------------------------------------------------------------

struct action_view {
  std::string text, due, due_text, priority;
};

std::vector<action_view> actions_of(const std::string& t) {
  std::vector<action_view> out;
  const auto plan = plan_thought(input(t));
  for (const auto& a : plan.at("actions").as_array()) {
    const auto& o = a.as_object();
    auto opt = [&](const char* k) {
      return o.at(k).is_null() ? std::string("null") : str(o, k);
    };
    out.push_back(
        {str(o, "text"), opt("due"), opt("due_text"), str(o, "priority")});
  }
  return out;
}

TEST(agents, plan_extracts_actions_with_due_dates) {
  const auto p = plan_thought(input(
      "I need to call the bank by Friday and book the dentist. Also, "
      "remember to send Dr. Smith the report tomorrow! Maybe we should grab "
      "lunch sometime."));
  const auto& actions = p.at("actions").as_array();
  ASSERT_EQ(actions.size(), 4u) << json::serialize(p);
  EXPECT_EQ(json::serialize(actions[0]),
            R"({"text":"Call the bank","due":"2026-12-04",)"
            R"("due_text":"by Friday","priority":"medium"})");
  EXPECT_EQ(json::serialize(actions[1]),
            R"({"text":"Book the dentist","due":null,"due_text":null,)"
            R"("priority":"medium"})");
  EXPECT_EQ(json::serialize(actions[2]),
            R"({"text":"Send Dr. Smith the report","due":"2026-12-02",)"
            R"("due_text":"tomorrow","priority":"high"})");
  EXPECT_EQ(actions[3].at("text"), "Grab lunch sometime");
  EXPECT_EQ(p.at("next_step"), "Send Dr. Smith the report");
}

TEST(agents, plan_cue_forms) {
  auto texts = [](const std::string& t) {
    std::vector<std::string> out;
    for (const auto& a : actions_of(t))
      out.push_back(a.text);
    return out;
  };
  EXPECT_EQ(texts("Don't forget to water the plants on 12 March."),
            std::vector<std::string>{"Water the plants"});
  EXPECT_EQ(actions_of("Don't forget to water the plants on 12 March.")[0].due,
            "2027-03-12");
  EXPECT_EQ(
      actions_of("Don't forget to water the plants on 12 March.")[0].due_text,
      "on 12 March");
  EXPECT_EQ(texts("We have to renew the lease in 3 days."),
            std::vector<std::string>{"Renew the lease"});
  EXPECT_EQ(actions_of("We have to renew the lease in 3 days.")[0].due,
            "2026-12-04");
  EXPECT_EQ(texts("Let's schedule a retro next week."),
            std::vector<std::string>{"Schedule a retro"});
  EXPECT_EQ(actions_of("Let's schedule a retro next week.")[0].due,
            "2026-12-07");
  EXPECT_EQ(texts("Pick up the kids, buy groceries and don't forget the "
                  "dentist appointment on Thursday."),
            (std::vector<std::string>{"Pick up the kids", "Buy groceries",
                                      "Remember the dentist appointment"}));
  EXPECT_EQ(texts("TODO: update the docs"),
            std::vector<std::string>{"Update the docs"});
  EXPECT_EQ(texts("Buy milk, eggs and bread."),
            std::vector<std::string>{"Buy milk, eggs and bread"});
  EXPECT_EQ(texts("Call mom, then email the landlord."),
            (std::vector<std::string>{"Call mom", "Email the landlord"}));
  EXPECT_EQ(texts("I should look for a cheaper flat or ask my boss for a "
                  "raise."),
            (std::vector<std::string>{"Look for a cheaper flat",
                                      "Ask my boss for a raise"}));
  EXPECT_EQ(texts("The report must be done by the end of the month."),
            std::vector<std::string>{"The report must be done"});
  EXPECT_EQ(
      actions_of("The report must be done by the end of the month.")[0].due,
      "2026-12-31");
  EXPECT_EQ(texts("I want to learn Spanish."),
            std::vector<std::string>{"Learn Spanish"});
  EXPECT_EQ(actions_of("I want to learn Spanish.")[0].priority, "low");
  EXPECT_EQ(actions_of("Fix the login bug asap.")[0].priority, "high");
  EXPECT_EQ(texts("- pay the phone bill\n- cancel the gym"),
            (std::vector<std::string>{"Pay the phone bill", "Cancel the gym"}));
  // Not actions: negated obligations, questions, reflections.
  EXPECT_TRUE(texts("I don't need to go there.").empty());
  EXPECT_TRUE(texts("Should I call him?").empty());
  EXPECT_TRUE(texts("Today I walked by the river.").empty());
  EXPECT_TRUE(texts("It should arrive tomorrow.").empty());
  EXPECT_TRUE(texts("I'm going to the store.").empty());
}

TEST(agents, plan_next_step_prefers_priority_then_due_date) {
  const auto p = plan_thought(input("I want to paint the fence. Send the "
                                    "invoice next week. Pay the fine "
                                    "tomorrow."));
  EXPECT_EQ(p.at("next_step"), "Pay the fine");
  const auto q = plan_thought(input("Send the invoice next week. Book the "
                                    "venue by Friday."));
  EXPECT_EQ(q.at("next_step"), "Book the venue");
}

// -- summarise ---------------------------------------------------------------

TEST(agents, summarise_one_sentence) {
  const std::string one = "Remember to buy a birthday present for Lena.";
  const auto all = run_all(one);
  const auto& s = result(all, agent_kind::summarise);
  EXPECT_EQ(str(s, "summary"), one);
  EXPECT_EQ(str(s, "title"), "Remember to buy a birthday present for Lena");
  EXPECT_EQ(s.at("action_count"), 1);
  EXPECT_EQ(str(s, "category"), "task");

  const std::string longer =
      "I keep thinking about how the new onboarding flow could guide people "
      "through the first week without any emails at all.";
  const auto title = str(summarise_thought(input(longer)), "title");
  EXPECT_EQ(title, "I keep thinking about how the new onboarding flow could…");
  EXPECT_LE(text::char_count(title), 60u);
  // Openers and the final full stop are not part of a title.
  EXPECT_EQ(
      str(summarise_thought(input("Hey, so my landlord emailed me.")), "title"),
      "My landlord emailed me");
  EXPECT_EQ(str(summarise_thought(input("Really?")), "title"), "Really?");
}

TEST(agents, summarise_picks_central_sentences_in_order) {
  const std::string text =
      "The garden needs work. Tomatoes in the garden need water every day. "
      "I bought a new hat. The garden tomatoes need stakes before the wind "
      "gets worse. My neighbour has a cat. Water and stakes will save the "
      "garden tomatoes.";
  const auto s = summarise_thought(input(text));
  const std::string summary = str(s, "summary");
  EXPECT_THAT(summary, HasSubstr("tomatoes"));
  EXPECT_THAT(summary, ::testing::Not(HasSubstr("hat")));
  EXPECT_THAT(summary, ::testing::Not(HasSubstr("cat")));
  // 6 sentences → 2 of them, in their original order.
  const auto sentences = text::sentences(summary);
  ASSERT_EQ(sentences.size(), 2u);
  EXPECT_LT(text.find(sentences[0].text), text.find(sentences[1].text));
  EXPECT_LE(text::char_count(str(s, "title")), 60u);
}

TEST(agents, summarise_uses_earlier_results) {
  agent_input in = input("Just a note.");
  in.previous[0] = json::object{{"category", "idea"},
                                {"confidence", 0.9},
                                {"scores", json::object{}},
                                {"signals", json::array{}}};
  in.previous[2] = json::object{
      {"importance", 0.9}, {"urgency", 0.9},     {"actionability", 0.9},
      {"score", 0.9},      {"priority", "high"}, {"reasons", json::array{}}};
  in.previous[3] =
      json::object{{"actions", json::array{json::object{{"text", "A"}},
                                           json::object{{"text", "B"}}}},
                   {"next_step", "A"}};
  const auto s = summarise_thought(in);
  EXPECT_EQ(str(s, "category"), "idea");
  EXPECT_EQ(str(s, "priority"), "high");
  EXPECT_EQ(s.at("action_count"), 2);
}

} // namespace
