"""What every page does first: page config, the store, the translated navigation and the language switch.

The pages use Streamlit's `pages/` folder routing (so a bookmark or a refresh of /unit runs that page
directly) with the automatic sidebar list hidden (.streamlit/config.toml) and replaced by translated links.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import data
from ui.i18n import current_lang, language_switch, t

PAGES = (("app.py", "nav_overview", "📊"), ("pages/unit.py", "nav_unit", "🏭"),
         ("pages/breaches.py", "nav_breaches", "🚨"), ("pages/upload.py", "nav_upload", "📤"))
# Choices that follow the user from page to page (Streamlit forgets a widget's value when its page is left).
PERSISTENT_KEYS = ("lang", "month", "basis", "actor")


def setup_page() -> Path:
    """Run at the top of every page; returns the store's path (created with demo data on first start)."""
    st.set_page_config(page_title="集团安全生产指标看板", page_icon="🛡️", layout="wide")
    for name in PERSISTENT_KEYS:
        if name in st.session_state:
            st.session_state[name] = st.session_state[name]
    path = data.ensure_store()
    current_lang()
    for script, label_key, icon in PAGES:
        st.sidebar.page_link(script, label=t(label_key), icon=icon)
    st.sidebar.divider()
    language_switch()
    return path
