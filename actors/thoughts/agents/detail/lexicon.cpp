#include "actors/thoughts/agents/detail/lexicon.hpp"

#include <initializer_list>
#include <map>
#include <set>

#include <unicode/utf8.h>

namespace distiller::thoughts::detail {

namespace {

using word_set = std::set<std::string_view, std::less<>>;

bool in(const word_set& set, std::string_view w) {
  return set.find(w) != set.end();
}

const word_set& english_stop_words() {
  static const word_set words{
      "a", "about", "above", "after", "again", "against", "all", "already",
      "also", "always", "am", "an", "and", "any", "anyone", "anything", "are",
      "aren't", "around", "as", "at", "back", "be", "because", "been", "before",
      "being", "below", "between", "bit", "both", "but", "by", "can", "can't",
      "cannot", "could", "couldn't", "day", "days", "did", "didn't", "do",
      "does", "doesn't", "doing", "don't", "done", "down", "during", "each",
      "either", "else", "even", "ever", "every", "everyone", "everything",
      "few", "for", "from", "further", "get", "gets", "getting", "go", "goes",
      "going", "gonna", "got", "gotta", "had", "hadn't", "has", "hasn't",
      "have", "haven't", "having", "he", "he'd", "he'll", "he's", "her", "here",
      "hers", "herself", "him", "himself", "his", "how", "however", "i", "i'd",
      "i'll", "i'm", "i've", "if", "in", "into", "is", "isn't", "it", "it's",
      "its", "itself", "just", "kind", "last", "let", "let's", "like", "lot",
      "lots", "many", "may", "maybe", "me", "might", "more", "most", "much",
      "must", "mustn't", "my", "myself", "need", "needs", "never", "next", "no",
      "nor", "not", "nothing", "now", "of", "off", "often", "oh", "ok", "okay",
      "on", "once", "one", "only", "or", "other", "ought", "our", "ours",
      "ourselves", "out", "over", "own", "perhaps", "please", "quite", "rather",
      "really", "said", "same", "say", "says", "shall", "she", "she'd",
      "she'll", "she's", "should", "shouldn't", "so", "some", "someone",
      "something", "soon", "still", "such", "sure", "than", "that", "that's",
      "the", "their", "theirs", "them", "themselves", "then", "there",
      "there's", "these", "they", "they'd", "they'll", "they're", "they've",
      "thing", "things", "this", "those", "though", "through", "to", "today",
      "tomorrow", "tonight", "too", "under", "until", "up", "us", "very",
      "want", "wanna", "was", "wasn't", "way", "we", "we'd", "we'll", "we're",
      "we've", "week", "well", "were", "weren't", "what", "what's", "when",
      "where", "whether", "which", "while", "who", "whom", "whose", "why",
      "will", "with", "within", "won't", "would", "wouldn't", "yeah", "yes",
      "yesterday", "yet", "you", "you'd", "you'll", "you're", "you've", "your",
      "yours", "yourself", "lets", "im", "ive", "dont", "cant", "wont", "isnt",
      // titles and light verbs, as in RAKE's stop lists
      "mr", "mrs", "ms", "dr", "prof", "make", "made", "take", "took", "went",
      "come", "came", "see", "saw", "know", "knew", "think", "feel", "felt",
      "look", "looking", "looked", "seem", "seems", "remember", "realised",
      "realized", "noticed", "wanted", "tell", "told", "give", "gave", "put",
      "keep", "try", "use", "used", "find", "found", "said", "getting",
      "thinking", "actually", "probably", "definitely", "anyway", "hey", "hi",
      "hello", "wow", "ah", "um", "uh", "hmm", "lol", "btw", "sometime",
      "sometimes", "stuff"};
  return words;
}

const word_set& german_stop_words() {
  static const word_set words{
      "aber",  "alle",   "alles", "als",    "am",     "an",     "auch",
      "auf",   "aus",    "bei",   "bin",    "bis",    "bist",   "da",
      "dann",  "das",    "dass",  "dem",    "den",    "der",    "des",
      "dich",  "die",    "dies",  "diese",  "dieser", "dieses", "dir",
      "doch",  "du",     "ein",   "eine",   "einem",  "einen",  "einer",
      "eines", "er",     "es",    "etwas",  "euch",   "für",    "gibt",
      "habe",  "haben",  "hat",   "hatte",  "heute",  "hier",   "ich",
      "ihm",   "ihn",    "ihr",   "im",     "in",     "ist",    "ja",
      "jetzt", "kann",   "kein",  "keine",  "können", "mal",    "man",
      "mehr",  "mein",   "meine", "mich",   "mir",    "mit",    "morgen",
      "muss",  "müssen", "nach",  "nein",   "nicht",  "noch",   "nur",
      "ob",    "oder",   "schon", "sehr",   "sein",   "sich",   "sie",
      "sind",  "so",     "soll",  "sollte", "über",   "um",     "und",
      "uns",   "unter",  "vom",   "von",    "vor",    "war",    "waren",
      "warum", "was",    "weil",  "wenn",   "wer",    "werden", "wie",
      "will",  "wir",    "wird",  "wo",     "wollen", "zu",     "zum",
      "zur"};
  return words;
}

const word_set& french_stop_words() {
  static const word_set words{
      "a",     "ai",     "au",     "aujourd'hui", "aussi", "aux",  "avec",
      "avez",  "avoir",  "avons",  "bien",        "c'est", "ce",   "ces",
      "cet",   "cette",  "chez",   "comme",       "dans",  "de",   "demain",
      "des",   "doit",   "dois",   "donc",        "dont",  "du",   "elle",
      "elles", "en",     "encore", "est",         "et",    "être", "fait",
      "faire", "faut",   "il",     "ils",         "je",    "la",   "le",
      "les",   "leur",   "lui",    "ma",          "mais",  "me",   "mes",
      "moi",   "mon",    "ne",     "nos",         "notre", "nous", "on",
      "ont",   "ou",     "où",     "par",         "pas",   "peut", "plus",
      "pour",  "quand",  "que",    "qui",         "quoi",  "sa",   "sans",
      "se",    "ses",    "si",     "son",         "sont",  "suis", "sur",
      "ta",    "te",     "tes",    "toi",         "ton",   "tous", "tout",
      "toute", "toutes", "très",   "tu",          "un",    "une",  "vos",
      "votre", "vous",   "y",      "déjà"};
  return words;
}

const word_set& spanish_stop_words() {
  static const word_set words{
      "al",   "como", "con",   "de",  "del", "el",       "ella", "en",
      "es",   "está", "estoy", "la",  "las", "le",       "lo",   "los",
      "me",   "mi",   "muy",   "más", "no",  "nosotros", "o",    "para",
      "pero", "por",  "que",   "se",  "son", "su",       "sí",   "te",
      "tú",   "un",   "una",   "y",   "yo",  "él"};
  return words;
}

const word_set& japanese_stop_words() {
  static const word_set words{
      "する",   "した", "して", "します", "しない", "ます",   "です",
      "でした", "ある", "いる", "ない",   "こと",   "もの",   "これ",
      "それ",   "あれ", "この", "その",   "ため",   "よう",   "から",
      "まで",   "けど", "ので", "など",   "という", "ました", "でしょう",
      "なる",   "なり", "られ"};
  return words;
}

/// All code points hiragana, and at most `max` of them.
bool short_hiragana(std::string_view s, size_t max) {
  size_t n = 0;
  int32_t i = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto len = static_cast<int32_t>(s.size());
  while (i < len) {
    UChar32 c;
    U8_NEXT(p, i, len, c);
    if (c < 0x3040 || c > 0x309F)
      return false;
    ++n;
  }
  return n > 0 && n <= max;
}

const word_set& positive_words() {
  static const word_set words{
      // English
      "accomplished", "achieved", "achievement", "adore", "amazing",
      "appreciate", "appreciated", "awesome", "beautiful", "best", "better",
      "blessed", "breakthrough", "bright", "brilliant", "calm", "celebrate",
      "celebrated", "cheerful", "clever", "comfortable", "confident",
      "congrats", "congratulations", "cool", "delighted", "easy", "effective",
      "efficient", "elegant", "energized", "enjoy", "enjoyed", "enjoying",
      "excellent", "excited", "exciting", "fantastic", "favorite", "favourite",
      "fixed", "fortunate", "fresh", "friendly", "fulfilled", "fun", "glad",
      "good", "gorgeous", "grateful", "great", "happy", "healthy", "helpful",
      "hope", "hopeful", "impressed", "impressive", "improve", "improved",
      "improvement", "inspired", "inspiring", "joy", "joyful", "kind", "love",
      "loved", "lovely", "lucky", "motivated", "nice", "optimistic", "peaceful",
      "perfect", "pleased", "positive", "productive", "progress", "promising",
      "proud", "recommend", "refreshing", "relaxed", "relaxing", "relieved",
      "rewarding", "safe", "satisfied", "satisfying", "smart", "smooth",
      "solved", "strong", "succeed", "succeeded", "success", "successful",
      "superb", "supportive", "terrific", "thank", "thankful", "thanks",
      "thrilled", "useful", "valuable", "welcome", "win", "winning", "won",
      "wonderful", "wow", "yay",
      // German
      "dankbar", "erfolg", "freude", "freue", "froh", "glücklich", "gut",
      "großartig", "klasse", "liebe", "perfekt", "prima", "schön", "spaß",
      "toll", "wunderbar",
      // French
      "adore", "aime", "bon", "bonne", "content", "contente", "excellent",
      "formidable", "génial", "heureuse", "heureux", "joie", "magnifique",
      "merci", "parfait", "réussi",
      // Japanese
      "嬉しい", "楽しい", "良い", "素晴らしい", "幸せ", "ありがとう", "好き"};
  return words;
}

const word_set& negative_words() {
  static const word_set words{
      // English
      "afraid", "angry", "annoyed", "annoying", "anxiety", "anxious", "ashamed",
      "awful", "bad", "blocked", "bored", "boring", "broke", "broken", "bug",
      "bugs", "chaos", "concern", "concerned", "confused", "confusing", "crash",
      "crashed", "crashes", "cried", "cry", "crying", "damn", "fails", "danger",
      "dangerous", "death", "debt", "delay", "delayed", "depressed",
      "depressing", "difficult", "disappointed", "disappointing", "disaster",
      "doubt", "embarrassed", "exhausted", "expensive", "fail", "failed",
      "failing", "failure", "fear", "fearful", "fired", "frustrated",
      "frustrating", "grief", "guilty", "hate", "hated", "helpless", "hopeless",
      "horrible", "hurt", "hurts", "ill", "impossible", "insecure", "issue",
      "issues", "jealous", "lonely", "lose", "losing", "loss", "lost", "mess",
      "messy", "miserable", "missed", "nervous", "nightmare", "overdue",
      "overwhelmed", "overwhelming", "pain", "painful", "panic", "poor",
      "problem", "problems", "regret", "rejected", "rejection", "risk", "risky",
      "sad", "scared", "sick", "sorry", "stress", "stressed", "stressful",
      "struggle", "struggling", "stuck", "sucks", "terrible", "tired",
      "trouble", "ugh", "ugly", "unfortunately", "unhappy", "upset", "useless",
      "waste", "wasted", "worried", "worries", "worry", "worrying", "worse",
      "worst", "wrong",
      // German
      "angst", "besorgt", "enttäuscht", "furchtbar", "krank", "leider", "müde",
      "schlecht", "schlimm", "schrecklich", "sorge", "sorgen", "traurig",
      "wütend", "ärger",
      // French
      "colère", "déçu", "fatigué", "fatiguée", "inquiet", "inquiète", "malade",
      "mauvais", "mauvaise", "nul", "peur", "problème", "stressé", "triste",
      // Japanese
      "悲しい", "心配", "不安", "怖い", "問題", "疲れた", "辛い", "嫌い"};
  return words;
}

const word_set& negators() {
  static const word_set words{
      "not",       "no",     "never",   "none",     "nobody",   "nothing",
      "neither",   "nor",    "without", "hardly",   "barely",   "cannot",
      "ain't",     "aren't", "can't",   "couldn't", "didn't",   "doesn't",
      "don't",     "hadn't", "hasn't",  "haven't",  "isn't",    "mustn't",
      "shouldn't", "wasn't", "weren't", "won't",    "wouldn't", "dont",
      "cant",      "wont",   "isnt",    "didnt",    "nicht",    "kein",
      "keine",     "keinen", "nie",     "niemals",  "pas",      "jamais",
      "ne",        "n'est"};
  return words;
}

const std::map<std::string_view, double, std::less<>>& intensifiers() {
  static const std::map<std::string_view, double, std::less<>> words{
      {"absolutely", 1.6}, {"deeply", 1.5},   {"especially", 1.3},
      {"extremely", 1.8},  {"highly", 1.4},   {"incredibly", 1.7},
      {"really", 1.4},     {"so", 1.3},       {"super", 1.5},
      {"too", 1.3},        {"totally", 1.5},  {"truly", 1.4},
      {"very", 1.5},       {"quite", 1.2},    {"slightly", 0.5},
      {"somewhat", 0.6},   {"kinda", 0.7},    {"fairly", 0.8},
      {"little", 0.6},     {"sehr", 1.5},     {"echt", 1.4},
      {"total", 1.5},      {"ziemlich", 1.2}, {"très", 1.5},
      {"vraiment", 1.4},   {"trop", 1.3},
  };
  return words;
}

const word_set& imperative_verbs() {
  static const word_set words{
      "add",          "analyse",   "analyze",     "answer",    "apologise",
      "apologize",    "apply",     "archive",     "arrange",   "ask",
      "bake",         "benchmark", "book",        "borrow",    "bring",
      "build",        "buy",       "calculate",   "call",      "cancel",
      "change",       "charge",    "check",       "choose",    "clean",
      "clear",        "close",     "collect",     "commit",    "compare",
      "complete",     "configure", "confirm",     "contact",   "cook",
      "create",       "debug",     "decide",      "delete",    "deliver",
      "deploy",       "design",    "discuss",     "do",        "document",
      "double-check", "download",  "draft",       "drink",     "drop",
      "dust",         "edit",      "email",       "e-mail",    "empty",
      "estimate",     "exercise",  "feed",        "fetch",     "file",
      "fill",         "finalise",  "finalize",    "find",      "finish",
      "fix",          "follow",    "get",         "give",      "go",
      "grab",         "hand",      "help",        "hire",      "implement",
      "inform",       "install",   "investigate", "invite",    "invoice",
      "iron",         "join",      "jot",         "learn",     "look",
      "mail",         "make",      "measure",     "meet",      "merge",
      "message",      "migrate",   "mop",         "move",      "mow",
      "negotiate",    "notify",    "open",        "order",     "organise",
      "organize",     "outline",   "pack",        "paint",     "pay",
      "phone",        "pick",      "ping",        "pitch",     "plan",
      "polish",       "post",      "postpone",    "practice",  "practise",
      "prepare",      "present",   "print",       "proofread", "publish",
      "purchase",     "push",      "put",         "read",      "reach",
      "recycle",      "refactor",  "register",    "rehearse",  "remember",
      "remind",       "renew",     "rent",        "repair",    "replace",
      "reply",        "report",    "reschedule",  "research",  "reserve",
      "reset",        "respond",   "restart",     "return",    "review",
      "revise",       "rewrite",   "ring",        "run",       "save",
      "scan",         "schedule",  "search",      "sell",      "send",
      "set",          "share",     "ship",        "shop",      "sign",
      "sort",         "start",     "stop",        "study",     "submit",
      "subscribe",    "summarise", "summarize",   "take",      "talk",
      "tell",         "test",      "text",        "thank",     "tidy",
      "transfer",     "translate", "try",         "turn",      "unsubscribe",
      "update",       "upgrade",   "upload",      "vacuum",    "validate",
      "verify",       "visit",     "walk",        "warn",      "wash",
      "watch",        "water",     "withdraw",    "wrap",      "write"};
  return words;
}

const word_set& urgent_words() {
  static const word_set words{
      "urgent",    "urgently",      "asap",    "immediately",
      "emergency", "critical",      "overdue", "deadline",
      "hurry",     "dringend",      "sofort",  "urgence",
      "urgente",   "immédiatement", "至急",    "緊急"};
  return words;
}

const std::map<std::string_view, double, std::less<>>& worry_words() {
  static const std::map<std::string_view, double, std::less<>> words{
      // fear and worry: strong cues
      {"afraid", 1.5},
      {"anxious", 1.5},
      {"anxiety", 1.5},
      {"concern", 1.5},
      {"concerned", 1.5},
      {"fear", 1.5},
      {"fearful", 1.5},
      {"nervous", 1.5},
      {"panic", 1.5},
      {"scared", 1.5},
      {"terrified", 1.5},
      {"worried", 1.5},
      {"worries", 1.5},
      {"worry", 1.5},
      {"worrying", 1.5},
      {"dread", 1.5},
      {"stressed", 1.2},
      {"overwhelmed", 1.2},
      {"uneasy", 1.2},
      // risk and trouble: weaker cues
      {"risk", 1.0},
      {"risky", 1.0},
      {"danger", 1.0},
      {"dangerous", 1.0},
      {"threat", 1.0},
      {"problem", 1.0},
      {"problems", 1.0},
      {"issue", 0.8},
      {"trouble", 1.0},
      {"fail", 1.0},
      {"fails", 1.0},
      {"failing", 1.0},
      {"failure", 1.0},
      {"crashes", 0.8},
      {"crashed", 0.8},
      {"overdue", 1.0},
      {"behind", 0.6},
      {"late", 0.6},
      {"broke", 0.8},
      {"debt", 1.0},
      {"sick", 0.8},
      {"pain", 0.8},
      {"crash", 0.8},
      {"breach", 1.0},
      {"leak", 0.8},
      {"unsafe", 1.0},
      {"losing", 0.8},
      {"struggling", 1.0},
      {"doubt", 0.8},
      {"unsure", 0.6},
      // German, French, Japanese
      {"angst", 1.5},
      {"sorge", 1.5},
      {"sorgen", 1.5},
      {"besorgt", 1.5},
      {"befürchte", 1.5},
      {"risiko", 1.0},
      {"peur", 1.5},
      {"inquiet", 1.5},
      {"inquiète", 1.5},
      {"souci", 1.5},
      {"crains", 1.5},
      {"risque", 1.0},
      {"problème", 1.0},
      {"心配", 1.5},
      {"不安", 1.5},
      {"怖い", 1.5},
      {"問題", 1.0},
      {"危険", 1.0},
  };
  return words;
}

} // namespace

std::string_view lexeme(std::string_view folded) {
  for (std::string_view elision :
       {"l'", "d'", "j'", "qu'", "n'", "s'", "c'", "m'", "t'"})
    if (folded.size() > elision.size() + 1 && folded.starts_with(elision))
      return folded.substr(elision.size());
  if (folded.size() > 3 && folded.ends_with("'s"))
    return folded.substr(0, folded.size() - 2);
  return folded;
}

bool is_stop_word(std::string_view folded, std::string_view language) {
  if (in(english_stop_words(), folded))
    return true;
  if (language == "de")
    return in(german_stop_words(), folded);
  if (language == "fr")
    return in(french_stop_words(), folded) ||
           in(french_stop_words(), lexeme(folded));
  if (language == "es")
    return in(spanish_stop_words(), folded);
  if (language == "ja")
    return short_hiragana(folded, 2) || in(japanese_stop_words(), folded);
  return false;
}

int polarity(std::string_view folded) {
  const std::string_view w = lexeme(folded);
  if (in(positive_words(), w))
    return 1;
  if (in(negative_words(), w))
    return -1;
  return 0;
}

bool is_negator(std::string_view folded) {
  return in(negators(), folded) || folded.ends_with("n't");
}

double intensity(std::string_view folded) {
  const auto& map = intensifiers();
  const auto it = map.find(folded);
  return it == map.end() ? 1.0 : it->second;
}

bool is_imperative_verb(std::string_view folded) {
  return in(imperative_verbs(), folded);
}

bool is_urgent_word(std::string_view folded) {
  return in(urgent_words(), folded);
}

double worry_weight(std::string_view folded) {
  const auto& map = worry_words();
  const auto it = map.find(lexeme(folded));
  return it == map.end() ? 0.0 : it->second;
}

} // namespace distiller::thoughts::detail
