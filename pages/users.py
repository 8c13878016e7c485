"""Users and roles (用户与权限, administrators): who may sign in, with which role and units; add a user, change a
role, set a password, unlock after a lock-out, deactivate (never delete: the audit trail names them)."""
import pandas as pd
import streamlit as st

from metrics.auth.roles import ROLE_NAMES, Forbidden, Permission, Role, by_privilege
from metrics.auth.users import MIN_PASSWORD_LENGTH, UserError
from metrics.store.audit import Action
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.markdown import plain

path = setup_page(needs=Permission.MANAGE_USERS)
user, lang = acting_user(), current_lang()
st.title(t("nav_users"))
version = data.version(path)
ref = data.reference(str(path), user, version)
unit_names = dict(zip(ref.units["code"], ref.units["name_zh" if lang == "zh" else "name_en"]))
role_names = {r: name.in_(lang) for r, name in ROLE_NAMES.items()}
roles = by_privilege()  # the least privileged first: a new user starts there


def attempt(change: Action, *args, done: str, **kwargs) -> None:
    """Make a change to a user account; say what happened or why it was refused (nothing is changed then, and the
    refusal is on the record)."""
    try:
        data.change_user(path, user, change, *args, **kwargs)
    except Forbidden as exc:
        st.error(exc.message(lang), icon="🔒")
    except UserError as exc:
        st.error(t("user_change_refused", reason=plain(exc.message(lang))), icon="🚫")
    else:
        st.success(plain(done), icon="✔")


listed = data.list_users(path, user)
people = listed[~listed["demo"]]
if listed.empty:
    st.info(t("users_none"))
else:
    locked = pd.to_datetime(listed["locked_until"])
    st.dataframe(pd.DataFrame({
        t("user_name"): listed["name"],
        t("user_display"): [f"🧪 {t('demo_admin')}" if demo else name
                            for demo, name in zip(listed["demo"], listed["display_name"])],
        t("user_role"): listed["role"].map(lambda r: role_names[Role(r)]),
        t("user_units"): ["、".join(unit_names.get(c, c) for c in u) for u in listed["units"]],
        t("user_active"): listed["active"], t("user_password_set"): listed["has_password"],
        t("user_failures"): listed["failed_attempts"],
        t("user_locked_until"): locked.dt.strftime("%Y-%m-%d %H:%M").where(locked > pd.Timestamp.now(), ""),
    }), hide_index=True, width="stretch")
    if listed["demo"].any():
        st.caption(t("users_demo_admin"))

add, edit = st.tabs([t("user_add"), t("user_edit")])
with add:
    with st.form("add_user", clear_on_submit=True):
        name = st.text_input(t("user_name"), help=t("user_name_help"))
        display = st.text_input(t("user_display"))
        role = st.selectbox(t("user_role"), roles, format_func=role_names.__getitem__, key="add_user_role")
        units = st.multiselect(t("user_units"), list(unit_names), format_func=lambda c: f"{unit_names[c]} ({c})",
                               help=t("user_units_help"), placeholder=t("user_units_pick"))
        password = st.text_input(t("password"), type="password",
                                 help=t("user_password_help", n=MIN_PASSWORD_LENGTH))
        if st.form_submit_button(t("user_add"), type="primary"):
            attempt(Action.USER_CREATE, name, role, units=units, password=password or None, display_name=display,
                    done=t("user_added", name=name))

with edit:
    if not people.empty:
        who = st.selectbox(t("user_name"), list(people["name"]), key="edit_user")
        row = people[people["name"] == who].iloc[0]
        with st.form("change_role"):
            role = st.selectbox(t("user_role"), roles, index=roles.index(Role(row["role"])),
                                format_func=role_names.__getitem__)
            units = st.multiselect(t("user_units"), list(unit_names),
                                   default=[u for u in row["units"] if u in unit_names],
                                   format_func=lambda c: f"{unit_names[c]} ({c})", help=t("user_units_help"),
                                   placeholder=t("user_units_pick"))
            if st.form_submit_button(t("user_save_role")):
                attempt(Action.USER_CHANGE, who, role, units, done=t("user_role_saved", name=who))
        with st.form("set_password", clear_on_submit=True):
            password = st.text_input(t("password"), type="password",
                                     help=t("user_password_help", n=MIN_PASSWORD_LENGTH))
            if st.form_submit_button(t("user_set_password")):
                attempt(Action.USER_PASSWORD, who, password, done=t("user_password_saved", name=who))
        left, right = st.columns(2)
        if left.button(t("user_unlock"), key="unlock_user", disabled=not row["failed_attempts"]):
            attempt(Action.USER_UNLOCK, who, done=t("user_unlocked", name=who))
        if row["active"]:
            if right.button(t("user_deactivate"), key="deactivate_user"):
                attempt(Action.USER_DEACTIVATE, who, done=t("user_deactivated", name=who))
        elif right.button(t("user_activate"), key="activate_user"):
            attempt(Action.USER_ACTIVATE, who, done=t("user_activated", name=who))
finish_page()
