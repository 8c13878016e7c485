"""What every page does first and last: page config, the store, the view from the URL, the translated
navigation and the language switch; at the end, the view back into the URL.

The pages use Streamlit's `pages/` folder routing (so a bookmark or a refresh of /ranking runs that page
directly) with the automatic sidebar list hidden (.streamlit/config.toml) and replaced by translated links
that carry the current view (ui.state).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import streamlit as st

from ui import data, state
from ui.i18n import current_lang, language_switch, t

PAGES = (("app.py", "nav_overview", "📊"), ("pages/ranking.py", "nav_ranking", "🏆"),
         ("pages/trends.py", "nav_trends", "📈"), ("pages/breaches.py", "nav_breaches", "🚨"),
         ("pages/unit.py", "nav_unit", "🏭"), ("pages/indicators.py", "nav_indicators", "🎯"),
         ("pages/upload.py", "nav_upload", "📤"), ("pages/meeting.py", "nav_meeting", "📽️"))
# Choices that follow the user from page to page (Streamlit forgets a widget's value when its page is left).
PERSISTENT_KEYS = ("lang", "month", "basis", "unit", "indicator", "actor")


def setup_page(sidebar: Literal["auto", "expanded", "collapsed"] = "auto") -> Path:
    """Run at the top of every page; returns the store's path (created with demo data on first start).
    `sidebar`: how the sidebar starts (the meeting page starts with it collapsed, the slide full width)."""
    st.set_page_config(page_title="集团安全生产指标看板", page_icon="🛡️", layout="wide",
                       initial_sidebar_state=sidebar)
    for name in PERSISTENT_KEYS:
        if name in st.session_state:
            st.session_state[name] = st.session_state[name]
    path = data.ensure_store()
    current_lang()
    version = data.version(path)
    state.adopt_url(data.months(str(path), version), data.unit_codes(str(path), version),
                    data.reference(str(path), version).indicators["code"])
    params = state.view_params()
    for script, label_key, icon in PAGES:
        st.sidebar.page_link(script, label=t(label_key), icon=icon, query_params=params)
    st.sidebar.divider()
    language_switch()
    return path


def finish_page() -> None:
    """Run at the end of every page: the address bar shows the view as it now is."""
    state.publish()
