"""The Streamlit settings the dashboard must run with, and the start-up check that refuses unsafe ones.

`.streamlit/config.toml` ships these values; an environment variable (`STREAMLIT_CLIENT_SHOW_ERROR_DETAILS`)
or a command-line flag (`--client.showErrorDetails`) overrides the file, so the check looks at the values
Streamlit actually uses:

    problems = unsafe_settings(effective_settings())

`unsafe_settings` is a pure function of a flat {"section.option": value} mapping and gives one sentence per
unsafe setting (empty: safe). `effective_settings` asks the running Streamlit; like the rest of this package,
the module does not import Streamlit at import time.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metrics.core.limits import load_limits

# Megabytes (Streamlit: MiB) per uploaded file: the upload limit of data/limits.toml, which the import checks
# too, so the page refuses nothing the import would take. A month's wide file for 500 units is ~60 KiB; a 36-month
# long file ~16 MiB in UTF-8 (~31 MiB as UTF-16); the largest benchmarked upload, 120 months of 500 units
# in one long CSV (bench/upload.py), 52.0 MiB, imports with ~1.1 GiB peak memory. Streamlit's default, 200,
# would let one upload take ~4 GiB.
MAX_UPLOAD_MB = load_limits().file_mb


@dataclass(frozen=True)
class Requirement:
    """One option: the values that are safe (`safe`: a tuple of exact values, or a range of whole numbers),
    the same in words (`must`), and why."""

    option: str
    safe: tuple[Any, ...] | range
    must: str
    why: str

    def allows(self, value: Any) -> bool:
        # Exact types: `1 == True` and `True in range(1, 65)` hold in Python, but 1 is not a switch and True is
        # not a size.
        if isinstance(self.safe, range):
            return type(value) is int and value in self.safe
        return any(type(value) is type(s) and value == s for s in self.safe)

    @property
    def env_var(self) -> str:
        """The environment variable `streamlit run` reads for the option (as ConfigOption.env_var makes it:
        server.enableCORS -> STREAMLIT_SERVER_ENABLE_CORS)."""
        name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", self.option.replace(".", "_"))
        return "STREAMLIT_" + re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()


REQUIRED: tuple[Requirement, ...] = (
    Requirement(
        "client.showErrorDetails", ("none",), '"none"',
        "an uncaught error's type, message and traceback can carry file paths, SQL and uploaded values; with "
        '"none" the user sees a generic message and the details go only to the server log'),
    Requirement(
        "client.disableDataExport", (True,), "true",
        "the built-in CSV download and copy of st.dataframe would bypass the sanitising export path "
        "(metrics/core/exports.py), which makes text cells from uploads inert for spreadsheets"),
    Requirement(
        "server.enableXsrfProtection", (True,), "true",
        "without it another site can make a signed-in browser upload files or call the app's HTTP routes"),
    Requirement(
        "server.xsrfCookieSameSite", ("lax", "strict"), '"lax" or "strict"',
        '"none" sends the XSRF cookie on cross-site requests, weakening the forgery protection'),
    Requirement(
        "server.enableCORS", (True,), "true",
        "without it Streamlit sends Access-Control-Allow-Origin: * and accepts WebSocket connections from "
        "any origin, so any web page could read the dashboard"),
    Requirement(
        "server.enableStaticServing", (False,), "false",
        "a static/ folder beside the app would be served to anyone without going through the app"),
    Requirement(
        "server.enableAgentApi", (False,), "false",
        "the agent API serves the app's tables over HTTP outside the sanitising export path"),
    Requirement(
        "server.maxUploadSize", range(1, MAX_UPLOAD_MB + 1), f"a whole number from 1 to {MAX_UPLOAD_MB} (MB)",
        "the largest benchmarked upload, 120 months of 500 units in one long file, is 52 MB and an import "
        "takes about 20 times its size in memory, so a larger limit lets one upload exhaust the server"),
    Requirement(
        "client.toolbarMode", ("minimal", "viewer"), '"minimal" or "viewer"',
        "the people using the dashboard must not get the developer menu (rerun, clear cache, deploy)"),
    Requirement(
        "runner.magicEnabled", (False,), "false",
        "with magic on, a bare expression in a page is written to the app, rendering whatever it holds"),
)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def unsafe_settings(config: Mapping[str, Any]) -> list[str]:
    """One sentence per unsafe setting in `config` (the effective values, flat: {"client.showErrorDetails":
    "none", ...}), in the order of REQUIRED: the option, its value, what it must be and why. A missing option
    is unsafe too. Empty when every REQUIRED option is safe; options REQUIRED does not name are ignored."""
    problems = []
    for req in REQUIRED:
        where = (f"set it in .streamlit/config.toml and check the environment variable {req.env_var} and "
                 f"the flag --{req.option}, which override the file")
        if req.option not in config:
            problems.append(f"{req.option} is not set but must be {req.must}, because {req.why} ({where}).")
        elif not req.allows(config[req.option]):
            problems.append(f"{req.option} is {_show(config[req.option])} but must be {req.must}, "
                            f"because {req.why} ({where}).")
    return problems


def effective_settings() -> dict[str, Any]:
    """The values Streamlit uses for the REQUIRED options, read through `streamlit.config.get_option`.

    Inside `streamlit run` that is config.toml (global, project, script folder), then STREAMLIT_* environment
    variables and command-line flags (the command line turns both into flags), and any `st.set_option` made
    so far. In a plain Python process (a test) Streamlit reads only the config.toml files: it ignores
    STREAMLIT_* variables there except for sensitive ones such as the cookie secret.

    An option this Streamlit does not know is left out, so `unsafe_settings` reports it as not set.
    """
    from streamlit import config

    values: dict[str, Any] = {}
    for req in REQUIRED:
        try:
            values[req.option] = config.get_option(req.option)
        except RuntimeError:  # 'Config key "…" not defined.': an older or newer Streamlit
            continue
    return values
