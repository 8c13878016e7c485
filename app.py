"""Entry point: `streamlit run app.py`. Creates the demo store on first start, then routes to the pages."""
import streamlit as st

from ui.data import ensure_store
from ui.i18n import language_switch, t

st.set_page_config(page_title="集团安全生产指标看板", page_icon="🛡️", layout="wide")
ensure_store()
language_switch()
page = st.navigation([
    st.Page("pages/overview.py", title=t("nav_overview"), icon="📊", default=True),
    st.Page("pages/unit.py", title=t("nav_unit"), icon="🏭", url_path="unit-detail"),
    st.Page("pages/breaches.py", title=t("nav_breaches"), icon="🚨", url_path="breach-flags"),
    st.Page("pages/upload.py", title=t("nav_upload"), icon="📤", url_path="data-upload"),
])
page.run()
