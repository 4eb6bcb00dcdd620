#include "actors/documents/text/markdown.hpp"

#include <memory>
#include <mutex>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include "actors/documents/text/html.hpp"

namespace distiller::documents {

namespace {

struct parser_deleter {
  void operator()(cmark_parser* p) const noexcept { cmark_parser_free(p); }
};
struct node_deleter {
  void operator()(cmark_node* n) const noexcept { cmark_node_free(n); }
};
struct iter_deleter {
  void operator()(cmark_iter* i) const noexcept { cmark_iter_free(i); }
};

void register_extensions() {
  static std::once_flag once;
  std::call_once(once, [] { cmark_gfm_core_extensions_ensure_registered(); });
}

/// `md` without leading YAML or TOML front matter: a first line of "---"
/// (or "+++") up to the next line of "---"/"..." (or "+++"). Without the
/// closing line it is not front matter and stays.
std::string_view skip_front_matter(std::string_view md) {
  for (std::string_view fence : {"---", "+++"}) {
    if (!md.starts_with(fence))
      continue;
    size_t eol = md.find('\n');
    if (eol == std::string_view::npos)
      return md;
    std::string_view first = md.substr(0, eol);
    if (first.ends_with('\r'))
      first.remove_suffix(1);
    if (first != fence)
      return md;
    for (size_t at = eol + 1; at < md.size();) {
      size_t end = md.find('\n', at);
      std::string_view line =
          md.substr(at, (end == std::string_view::npos ? md.size() : end) - at);
      if (line.ends_with('\r'))
        line.remove_suffix(1);
      if (line == fence || (fence == "---" && line == "..."))
        return end == std::string_view::npos ? std::string_view{}
                                             : md.substr(end + 1);
      if (end == std::string_view::npos)
        break;
      at = end + 1;
    }
  }
  return md;
}

std::string_view literal(cmark_node* n) {
  const char* s = cmark_node_get_literal(n);
  return s ? s : "";
}

std::string_view type_string(cmark_node* n) {
  const char* s = cmark_node_get_type_string(n);
  return s ? s : "";
}

bool in_tight_list(cmark_node* n) {
  cmark_node* item = cmark_node_parent(n);
  if (!item || cmark_node_get_type(item) != CMARK_NODE_ITEM)
    return false;
  cmark_node* list = cmark_node_parent(item);
  return list && cmark_node_get_list_tight(list);
}

/// "3. " for the third item of an ordered list starting at 1, else "".
std::string item_number(cmark_node* item) {
  cmark_node* list = cmark_node_parent(item);
  if (!list || cmark_node_get_list_type(list) != CMARK_ORDERED_LIST)
    return {};
  long n = cmark_node_get_list_start(list);
  for (cmark_node* s = cmark_node_previous(item); s; s = cmark_node_previous(s))
    ++n;
  return std::to_string(n) + ". ";
}

/// The text of a heading's inline children.
std::string heading_text(cmark_node* heading) {
  std::string out;
  std::unique_ptr<cmark_iter, iter_deleter> it(cmark_iter_new(heading));
  for (auto ev = cmark_iter_next(it.get()); ev != CMARK_EVENT_DONE;
       ev = cmark_iter_next(it.get())) {
    cmark_node* n = cmark_iter_get_node(it.get());
    auto type = cmark_node_get_type(n);
    if (ev == CMARK_EVENT_ENTER &&
        (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE))
      out += literal(n);
    else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK)
      out += ' ';
  }
  return out;
}

} // namespace

raw_document markdown_to_text(std::string_view markdown) {
  register_extensions();
  markdown = skip_front_matter(markdown);
  std::unique_ptr<cmark_parser, parser_deleter> parser(
      cmark_parser_new(CMARK_OPT_FOOTNOTES | CMARK_OPT_VALIDATE_UTF8));
  for (const char* name : {"table", "strikethrough", "tasklist", "autolink"})
    if (auto* ext = cmark_find_syntax_extension(name))
      cmark_parser_attach_syntax_extension(parser.get(), ext);
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, node_deleter> root(
      cmark_parser_finish(parser.get()));

  raw_document doc;
  std::unique_ptr<cmark_iter, iter_deleter> it(cmark_iter_new(root.get()));
  for (auto ev = cmark_iter_next(it.get()); ev != CMARK_EVENT_DONE;
       ev = cmark_iter_next(it.get())) {
    cmark_node* n = cmark_iter_get_node(it.get());
    const bool enter = ev == CMARK_EVENT_ENTER;
    std::string& t = doc.current();
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_TEXT:
    case CMARK_NODE_CODE:
      t += literal(n);
      break;
    case CMARK_NODE_SOFTBREAK:
    case CMARK_NODE_LINEBREAK:
      t += '\n';
      break;
    case CMARK_NODE_HEADING:
      if (enter)
        doc.sections.push_back({heading_text(n), {}});
      doc.current() += "\n\n";
      break;
    case CMARK_NODE_PARAGRAPH:
      if (!enter)
        t += in_tight_list(n) ? "\n" : "\n\n";
      break;
    case CMARK_NODE_ITEM:
      if (enter) {
        if (!t.empty() && t.back() != '\n')
          t += '\n'; // the item before ended in a tight paragraph's "\n"
        t += item_number(n);
      }
      break;
    case CMARK_NODE_CODE_BLOCK:
      t += "\n\n";
      t += literal(n);
      t += "\n\n";
      break;
    case CMARK_NODE_HTML_BLOCK:
      t += "\n\n";
      t += html_to_text(literal(n)).text;
      t += "\n\n";
      break;
    case CMARK_NODE_BLOCK_QUOTE:
    case CMARK_NODE_LIST:
    case CMARK_NODE_THEMATIC_BREAK:
    case CMARK_NODE_FOOTNOTE_DEFINITION:
      t += "\n\n";
      break;
    default: {
      // Extension nodes have dynamic types: tell them by name.
      auto type = type_string(n);
      if (type == "table")
        t += "\n\n";
      else if ((type == "table_row" || type == "table_header") && !enter)
        t += '\n';
      else if (type == "table_cell" && !enter)
        t += ' ';
      break; // emphasis, links, images: their children carry the text
    }
    }
  }
  return doc;
}

} // namespace distiller::documents
