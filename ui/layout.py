"""What every page does first and last: page config, the store, the view from the URL, the translated
navigation and the language switch; at the end, the view back into the URL.

The pages use Streamlit's `pages/` folder routing (so a bookmark or a refresh of /ranking runs that page
directly) with the automatic sidebar list hidden (.streamlit/config.toml) and replaced by translated links
that carry the current view (ui.state).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, NoReturn

import streamlit as st

from metrics.auth.roles import Forbidden, Permission, can, require
from metrics.core.settings import effective_settings, unsafe_settings
from ui import auth, chrome, data, state
from ui.i18n import current_lang, language_switch, t

PAGES = (("app.py", "nav_overview", "📊", Permission.VIEW_GROUP),
         ("pages/ranking.py", "nav_ranking", "🏆", Permission.VIEW_GROUP),
         ("pages/trends.py", "nav_trends", "📈", Permission.VIEW_GROUP),
         ("pages/breaches.py", "nav_breaches", "🚨", Permission.VIEW_GROUP),
         ("pages/unit.py", "nav_unit", "🏭", Permission.VIEW_UNIT),
         ("pages/hazards.py", "nav_hazards", "📋", Permission.VIEW_UNIT),
         ("pages/indicators.py", "nav_indicators", "🎯", Permission.VIEW_GROUP),
         ("pages/upload.py", "nav_upload", "📤", Permission.UPLOAD),
         ("pages/meeting.py", "nav_meeting", "📽️", Permission.PRESENT),
         ("pages/audit.py", "nav_audit", "🧾", Permission.VIEW_AUDIT),
         ("pages/users.py", "nav_users", "👥", Permission.MANAGE_USERS))
# Choices that follow the user from page to page (Streamlit forgets a widget's value when its page is left).
PERSISTENT_KEYS = ("lang", "month", "basis", "unit", "indicator", auth.VIEW_ROLE, auth.VIEW_UNIT)


def setup_page(sidebar: Literal["auto", "expanded", "collapsed"] = "auto",
               needs: Permission = Permission.VIEW_GROUP) -> Path:
    """Run at the top of every page; returns the store's path (where there is none, an error page instead).
    Nobody gets past it without signing in; a user whose role lacks `needs` reads why and the page stops.
    `sidebar`: how the sidebar starts (the meeting page starts with it collapsed, the slide full width)."""
    st.set_page_config(page_title="集团安全生产指标看板", page_icon="🛡️", layout="wide",
                       initial_sidebar_state=sidebar)
    for name in PERSISTENT_KEYS:
        if name in st.session_state:
            st.session_state[name] = st.session_state[name]
    path = data.ensure_store()
    current_lang()
    chrome.words()
    if path is None:
        missing_store_page()
    refuse_unsafe_settings(path)
    user = auth.gate(path)
    version = data.version(path)
    state.adopt_url(data.months(str(path), user, version), data.unit_codes(str(path), user, version),
                    data.reference(str(path), user, version).indicators["code"])
    params = state.view_params()
    for script, label_key, icon, permission in PAGES:
        if can(user, permission):
            st.sidebar.page_link(script, label=t(label_key), icon=icon, query_params=params)
    st.sidebar.divider()
    language_switch()
    auth.sidebar_identity(path, user)
    if not can(user, needs):
        st.error(refusal(user, needs, current_lang()), icon="🔒")
        st.stop()
    return path


def missing_store_page() -> NoReturn:
    """No store file at the configured path: say so and what to do, sign nobody in, make nothing; the page stops."""
    with st.sidebar:
        language_switch()
    st.title(t("app_title"))
    st.error(t("store_missing", path=data.store_path()), icon="🛑")
    st.markdown(t("store_missing_todo", path=data.store_path()))
    st.stop()


def refuse_unsafe_settings(path: Path) -> None:
    """A production store is not served with unsafe settings (error details, data export, no XSRF...); the
    demo store only says what is wrong."""
    problems = unsafe_settings(effective_settings())
    if not problems:
        return
    if data.demo_user(str(path), data.version(path)) is not None:
        st.sidebar.warning(t("unsafe_settings_demo", n=len(problems)), icon="⚠️")
        return
    st.error(t("unsafe_settings"), icon="🛑")
    for problem in problems:
        st.markdown(f"- {problem}")
    st.stop()


def refusal(user, permission: Permission, lang: str) -> str:
    try:
        require(user, permission)
    except Forbidden as exc:
        return exc.message(lang)
    return ""


def finish_page() -> None:
    """Run at the end of every page: the address bar shows the view as it now is."""
    state.publish()
