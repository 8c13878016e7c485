"""The pages' text in Chinese (default) or English, from the one text catalogue (metrics/core/words.py), and
the sidebar switch between the two."""
from __future__ import annotations

import streamlit as st

from metrics.core.words import word

LANGS = {"zh": "中文", "en": "English"}


def current_lang() -> str:
    if "lang" not in st.session_state:
        requested = st.query_params.get("lang", "zh")
        st.session_state["lang"] = requested if requested in LANGS else "zh"
    return st.session_state["lang"]


def t(key: str, **values) -> str:
    """The catalogue's `key` (data/words.toml) in the session's language, {placeholders} filled from `values`."""
    return word(key, current_lang(), **values)


def language_switch() -> str:
    """The sidebar switch; returns the chosen language code."""
    current_lang()
    st.sidebar.radio(t("language"), list(LANGS), format_func=LANGS.get, key="lang", horizontal=True)
    return st.session_state["lang"]
