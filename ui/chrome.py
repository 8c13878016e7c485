"""Streamlit's own words in the page's language. Streamlit has no locale: its widgets say "No results",
"Press Enter to apply", "Select all", "Show/hide columns", "Type to search", "Past Month"... in English, in
text, tooltips, placeholders and accessible names that CSS cannot reach. `words()` installs one constant
script (no data, only the CHROME pairs of the text catalogue, data/words.toml) that rewrites exactly those
texts where Streamlit puts them, now and whenever it draws them again, into the language of the page;
switching back restores them.
Our own texts are never touched: they come from the catalogue already in the right language.
"""
from __future__ import annotations

import json
import re

import streamlit as st

from metrics.core.words import WORDS
from ui.i18n import current_lang

# The catalogue's keys whose "en" is Streamlit's own text, exactly as its frontend writes it; "{n}" stands for the
# number or words it fills in.
CHROME = ("chrome_skip", "chrome_no_results", "chrome_select_all", "chrome_select_matches", "chrome_clear_all",
          "chrome_remove", "chrome_clear_value", "chrome_options_available", "chrome_option_available",
          "chrome_enter_apply",
          "chrome_enter_submit", "chrome_show_password", "chrome_hide_password", "chrome_clear_entry",
          "chrome_file_upload", "chrome_columns", "chrome_search", "chrome_search_hint", "chrome_close_search",
          "chrome_next_result", "chrome_previous_result", "chrome_fullscreen", "chrome_close_fullscreen",
          "chrome_sort_ascending", "chrome_sort_descending", "chrome_format", "chrome_autosize",
          "chrome_pin_column", "chrome_unpin_column", "chrome_hide_column", "chrome_copy_column_name",
          "chrome_column_menu", "chrome_date_range", "chrome_quick_select", "chrome_past_week",
          "chrome_past_month", "chrome_past_3_months", "chrome_past_6_months", "chrome_past_year",
          "chrome_past_2_years", "chrome_choose_date_range", "chrome_choose_date", "chrome_clear_date",
          "chrome_clear_dates", "chrome_previous_month", "chrome_next_month", "chrome_select_placeholder",
          "chrome_choose_option", "chrome_choose_options", "chrome_sidebar", "chrome_collapse_sidebar",
          "chrome_expand_sidebar", "chrome_heading_link", "chrome_open", "chrome_dismiss", "chrome_help_for",
          "chrome_shortcut", "chrome_true", "chrome_false", "chrome_choose_date_range_only",
          "chrome_choose_date_only", "chrome_start_date",
          "chrome_end_date", "chrome_date_year", "chrome_date_month", "chrome_date_day", "chrome_calendar_keys")

SCRIPT = """<script>
(() => {
  const previous = window.__pageWords;
  if (previous) previous.observer.disconnect();
  const pairs = %(pairs)s.map(([source, target]) => [new RegExp(source), target]);
  const once = (key) => {
    for (const [pattern, target] of pairs) {
      if (pattern.test(key)) return key.replace(pattern, target);
    }
    return null;
  };
  const translate = (text) => {
    // A text may nest several ("year, 日期范围 start date"): translate until nothing matches.
    let key = text.trim(), done = null;
    for (let next = key && once(key), round = 0; next && round < 4; next = once(next), round++) done = next;
    return done && text.replace(key, done);
  };
  const ATTRIBUTES = ["aria-label", "placeholder", "title"];
  const fixElement = (element) => {
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      const done = value && translate(value);
      if (done) element.setAttribute(name, done);
    }
  };
  const fix = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const done = translate(node.nodeValue);
      if (done) node.nodeValue = done;
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || node.closest("script, style")) return;
    fixElement(node);
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let next = walker.nextNode(); next; next = walker.nextNode()) {
      if (next.nodeType === Node.TEXT_NODE) fix(next); else fixElement(next);
    }
  };
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "childList") record.addedNodes.forEach(fix);
      else if (record.type === "characterData") fix(record.target);
      else fixElement(record.target);
    }
  });
  fix(document.body);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                                   attributeFilter: ATTRIBUTES});
  window.__pageWords = {observer};
})();
</script>"""
HIDDEN = "<style>.st-key-page_words { display: none; }</style>"


def _pattern(template: str) -> str:
    """A catalogue text as a JavaScript pattern matching the whole text, "{n}" capturing what fills it."""
    return "^" + re.escape(template).replace(re.escape("{n}"), "(.+?)") + "$"


def pairs(lang: str) -> list[tuple[str, str]]:
    """(pattern, replacement) for every CHROME text into `lang`, from the other language (so a switch back
    restores Streamlit's English)."""
    other = "en" if lang == "zh" else "zh"
    return [(_pattern(WORDS[key].in_(other)), WORDS[key].in_(lang).replace("{n}", "$1")) for key in CHROME]


def words() -> None:
    """Run on every page (ui.layout.setup_page): Streamlit's own words follow the page's language."""
    with st.sidebar.container(key="page_words"):
        st.html(HIDDEN)
        st.html(SCRIPT % {"pairs": json.dumps(pairs(current_lang()), ensure_ascii=False)},
                unsafe_allow_javascript=True)
