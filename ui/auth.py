"""Who is using the page: the sign-in gate every page passes through, the demo banner and signing out.

- An identity provider configured in .streamlit/secrets.toml ([auth]): Streamlit's OIDC sign-in proves who
  the person is; the user table says what they may do (an address it does not know gets no access).
- Otherwise the built-in user store (metrics.users: argon2id hashes, lock-out).
- A store holding the demo group opens signed in as the demo administrator, under a banner saying so.
The session keeps only the user's name; role and units are read from the store on every run, so a change
or a deactivation by an administrator applies at the next click. A URL cannot sign anyone in.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from metrics.roles import ROLE_NAMES, User
from metrics.users import SignInFailed
from ui import data
from ui.i18n import current_lang, language_switch, t

SESSION_USER = "signed_in_user"
_ACTING = "_acting_user"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False
    except Exception:  # no secrets file at all: Streamlit raises its own error type
        return False


def acting_user() -> User:
    """The user this page run acts for (set by `gate`, which every page runs first)."""
    return st.session_state[_ACTING]


def gate(path: Path) -> User:
    """The signed-in user; otherwise the sign-in form, and the page stops there."""
    version = data.version(path)
    user = data.demo_user(str(path), version) or _signed_in(path, version)
    if user is None:
        _sign_in_page(path)
        st.stop()
    st.session_state[_ACTING] = user
    return user


def _signed_in(path: Path, version: tuple) -> User | None:
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        address = st.user.get("email") or ""
        user = data.signed_in_user(str(path), address, version)
        if user is None:
            st.error(t("oidc_no_access", name=address), icon="🔒")
            st.button(t("sign_out"), on_click=st.logout)
            st.stop()
        if st.session_state.get(SESSION_USER) != user.name:
            data.record_sign_in(path, user, "oidc")
            st.session_state[SESSION_USER] = user.name
        return user
    name = st.session_state.get(SESSION_USER)
    if not name:
        return None
    user = data.signed_in_user(str(path), name, version)
    if user is None:  # deactivated or removed since signing in
        del st.session_state[SESSION_USER]
    return user


def _sign_in_page(path: Path) -> None:
    current_lang()
    with st.sidebar:
        language_switch()
    st.title(t("sign_in_title"))
    if oidc_configured():
        st.button(t("sign_in_oidc"), on_click=st.login, type="primary")
        return
    with st.form("sign_in", clear_on_submit=False):
        name = st.text_input(t("user_name"), key="sign_in_name")
        password = st.text_input(t("password"), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("sign_in"), type="primary")
    if submitted:
        try:
            user = data.authenticate(path, name, password)
        except SignInFailed as exc:
            st.error(exc.message(current_lang()), icon="🔒")
            return
        st.session_state[SESSION_USER] = user.name
        st.session_state.pop("sign_in_password", None)
        st.rerun()
    st.caption(t("sign_in_help"))


def sidebar_identity(path: Path, user: User) -> None:
    """Who is signed in, their role, and the way out (the demo store has no way out: a banner instead)."""
    lang = current_lang()
    role = ROLE_NAMES[user.role][0 if lang == "zh" else 1]
    units = f" · {'、'.join(user.units)}" if user.units else ""
    name = t("demo_admin") if user.demo else user.display_name or user.name
    st.sidebar.caption(f"👤 {name} · {role}{units}")
    if user.demo:
        st.markdown(f":orange-badge[🧪 {t('demo_badge')}] :gray[{t('demo_banner')}]")
        return
    if st.sidebar.button(t("sign_out"), key="sign_out"):
        data.record_sign_out(path, user)
        st.session_state.pop(SESSION_USER, None)
        if oidc_configured():
            st.logout()
        st.rerun()
