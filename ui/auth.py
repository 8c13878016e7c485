"""Who is using the page: the sign-in gate every page passes through, the demo banner and signing out.

- An identity provider configured in .streamlit/secrets.toml ([auth]): Streamlit's OIDC sign-in proves who
  the person is; the user table says what they may do (an address it does not know gets no access).
- Otherwise the built-in user store (metrics.auth.users: argon2id hashes, lock-out).
- A store holding the demo group opens signed in as the demo administrator, under a banner saying so; while it
  holds no users, a sidebar switch views the demo as an executive or as a unit's staff (metrics.access.demo_roles):
  the acting user then has that role, so every page shows what that role sees.
The session keeps only the user's name; role and units are read from the store on every run, so a change
or a deactivation by an administrator applies at the next click. A URL cannot sign anyone in.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from metrics.auth.roles import ROLE_NAMES, Role, User
from metrics.auth.users import SignInFailed
from ui import data
from ui.i18n import current_lang, language_switch, t
from ui.markdown import plain

SESSION_USER = "signed_in_user"
_ACTING = "_acting_user"
VIEW_ROLE, VIEW_UNIT = "demo_view_role", "demo_view_unit"
"""The demo's role switch (kept from page to page by ui.layout)."""


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
    demo = data.demo_user(str(path), version)
    user = _demo_view(path, version, demo) if demo else _signed_in(path, version)
    if user is None:
        _sign_in_page(path)
        st.stop()
    st.session_state[_ACTING] = user
    return user


def _demo_view(path: Path, version: tuple, demo: User) -> User:
    """The demo administrator, or the role (and unit) the sidebar's switch views the demo as."""
    role = st.session_state.get(VIEW_ROLE)
    if role is None or role not in data.demo_roles(str(path), version) or role is Role.ADMIN:
        return demo
    units = _demo_units(path, version, demo)
    if st.session_state.get(VIEW_UNIT) not in units:
        st.session_state[VIEW_UNIT] = next(iter(units))
    return data.viewed_as(role, st.session_state[VIEW_UNIT])


def _demo_units(path: Path, version: tuple, user: User) -> dict[str, str]:
    """code -> name of every unit the demo can be viewed as (the ranking names every unit to every role)."""
    units = data.reference(str(path), user, version).units
    return dict(zip(units["code"], units["name_zh" if current_lang() == "zh" else "name_en"]))


def _signed_in(path: Path, version: tuple) -> User | None:
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        address = str(st.user.get("email") or "")  # the stub's union (bool, tokens) covers other keys
        user = data.signed_in_user(str(path), address, version)
        if user is None:
            st.error(t("oidc_no_access", name=plain(address)), icon="🔒")
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
    role = ROLE_NAMES[user.role].in_(lang)
    units = f" · {'、'.join(user.units)}" if user.units else ""
    name = (t("demo_admin") if user.role is Role.ADMIN else t("demo_user")) if user.demo \
        else user.display_name or user.name
    if user.demo:
        _demo_switch(path, user)
    st.sidebar.caption(f"👤 {plain(name)} · {role}{units}")
    if user.demo:
        banner = t("demo_banner") if user.role is Role.ADMIN else t("demo_viewing", role=role) if not user.units \
            else t("demo_viewing_unit", role=role, unit="、".join(user.units))
        st.markdown(f":orange-badge[🧪 {t('demo_badge')}] :gray[{banner}]")
        return
    if st.sidebar.button(t("sign_out"), key="sign_out"):
        data.record_sign_out(path, user)
        st.session_state.pop(SESSION_USER, None)
        if oidc_configured():
            st.logout()
        st.rerun()


def _demo_switch(path: Path, user: User) -> None:
    """View the demo as another role (only where metrics.access.demo_roles offers any)."""
    version = data.version(path)
    roles = data.demo_roles(str(path), version)
    if not roles:
        return
    lang = current_lang()
    names = {role: t("demo_admin") if role is Role.ADMIN else ROLE_NAMES[role].in_(lang)
             for role in roles}
    picked = st.sidebar.selectbox(t("demo_view_as"), roles, format_func=names.__getitem__, key=VIEW_ROLE,
                                  help=t("demo_view_help"))
    if picked is Role.UNIT:
        units = _demo_units(path, version, user)
        st.sidebar.selectbox(t("demo_view_unit"), list(units), format_func=lambda c: f"{units[c]} ({c})",
                             key=VIEW_UNIT)
