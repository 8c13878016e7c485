"""The safe Streamlit settings: the shipped .streamlit/config.toml, the check `unsafe_settings`, and
`effective_settings` seeing what `streamlit run` really uses (config file, STREAMLIT_* variables, flags)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from metrics.core.settings import MAX_UPLOAD_MB, REQUIRED, unsafe_settings

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".streamlit" / "config.toml"


def flatten(table: dict, prefix: str = "") -> dict:
    """{"client": {"showErrorDetails": "none"}} -> {"client.showErrorDetails": "none"} (nested tables too)."""
    flat = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


SHIPPED = flatten(tomllib.loads(CONFIG.read_text(encoding="utf-8")))


def test_shipped_config_is_safe():
    assert unsafe_settings(SHIPPED) == []


def test_shipped_config_sets_every_required_option_itself():
    # Not left to Streamlit's defaults, which may change between versions.
    assert [r.option for r in REQUIRED if r.option not in SHIPPED] == []


def test_shipped_config_keeps_the_existing_settings():
    assert SHIPPED["server.headless"] is True
    assert SHIPPED["browser.gatherUsageStats"] is False
    assert SHIPPED["client.showSidebarNavigation"] is False
    assert SHIPPED["theme.base"] == "light"
    assert "Noto Sans CJK SC" in SHIPPED["theme.font"]


def test_required_options_are_streamlit_options_with_these_env_vars():
    from streamlit.config import get_config_options

    options = get_config_options()
    for req in REQUIRED:
        assert req.option in options, req.option
        assert req.env_var == options[req.option].env_var
    assert next(r for r in REQUIRED if r.option == "client.showErrorDetails").env_var == \
        "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"


@pytest.mark.parametrize("option, value", [
    ("client.toolbarMode", "viewer"),
    ("server.xsrfCookieSameSite", "strict"),
    ("server.maxUploadSize", 1),
    ("server.maxUploadSize", 20),
    ("server.maxUploadSize", MAX_UPLOAD_MB),
])
def test_other_safe_values_pass(option, value):
    assert unsafe_settings({**SHIPPED, option: value}) == []


# (option, unsafe value, how the message shows the value)
UNSAFE = [
    ("client.showErrorDetails", "full", '"full"'),
    ("client.showErrorDetails", "stacktrace", '"stacktrace"'),
    ("client.showErrorDetails", "type", '"type"'),
    ("client.showErrorDetails", True, "true"),          # deprecated: shows "full"
    ("client.showErrorDetails", False, "false"),        # deprecated: shows "stacktrace"
    ("client.showErrorDetails", "True", '"True"'),      # as the command line passes the legacy values
    ("client.showErrorDetails", "false", '"false"'),
    ("client.disableDataExport", False, "false"),
    ("client.disableDataExport", "true", '"true"'),
    ("client.disableDataExport", 1, "1"),
    ("server.enableXsrfProtection", False, "false"),
    ("server.enableXsrfProtection", 1, "1"),
    ("server.xsrfCookieSameSite", "none", '"none"'),
    ("server.enableCORS", False, "false"),
    ("server.enableStaticServing", True, "true"),
    ("server.enableAgentApi", True, "true"),
    ("server.maxUploadSize", MAX_UPLOAD_MB + 1, str(MAX_UPLOAD_MB + 1)),
    ("server.maxUploadSize", 200, "200"),               # Streamlit's default
    ("server.maxUploadSize", 0, "0"),
    ("server.maxUploadSize", -1, "-1"),
    ("server.maxUploadSize", True, "true"),
    ("server.maxUploadSize", 64.0, "64.0"),
    ("server.maxUploadSize", "64", '"64"'),
    ("server.maxUploadSize", None, "None"),
    ("client.toolbarMode", "auto", '"auto"'),
    ("client.toolbarMode", "developer", '"developer"'),
    ("runner.magicEnabled", True, "true"),
]


@pytest.mark.parametrize("option, value, shown", UNSAFE)
def test_each_unsafe_value_is_named(option, value, shown):
    problems = unsafe_settings({**SHIPPED, option: value})
    assert len(problems) == 1
    req = next(r for r in REQUIRED if r.option == option)
    assert problems[0].startswith(f"{option} is {shown} but must be {req.must}, because {req.why}")
    assert req.env_var in problems[0] and f"--{option}" in problems[0]


def test_every_required_option_has_an_unsafe_case():
    assert {r.option for r in REQUIRED} == {option for option, _, _ in UNSAFE}


@pytest.mark.parametrize("option", [r.option for r in REQUIRED])
def test_a_missing_option_is_unsafe(option):
    config = {k: v for k, v in SHIPPED.items() if k != option}
    assert [p.split(" but ")[0] for p in unsafe_settings(config)] == [f"{option} is not set"]


def test_nothing_set_reports_every_option_in_order():
    assert [p.split(" ")[0] for p in unsafe_settings({})] == [r.option for r in REQUIRED]


def test_several_problems_and_unrelated_options():
    config = {**SHIPPED, "client.showErrorDetails": "full", "server.enableCORS": False,
              "server.port": 80, "theme.base": "dark"}
    assert [p.split(" ")[0] for p in unsafe_settings(config)] == ["client.showErrorDetails", "server.enableCORS"]


def test_the_module_does_not_import_streamlit():
    code = "import sys, metrics.core.settings; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# effective_settings, through the real command line: `streamlit run` turns STREAMLIT_* variables and flags
# into config options before it starts the server. The probe replaces the server start (bootstrap.run) with
# the start-up check, so nothing is served.
PROBE = textwrap.dedent("""
    import json, sys
    from streamlit import config
    from streamlit.web import bootstrap, cli
    from metrics.core.settings import effective_settings, unsafe_settings

    def check_instead_of_serving(main_script_path, is_hello, args, flag_options):
        settings = effective_settings()
        print(json.dumps({"settings": settings, "problems": unsafe_settings(settings),
                          "address": config.get_option("server.address")}))

    bootstrap.run = check_instead_of_serving
    cli.main(["run", *sys.argv[1:]], prog_name="streamlit", standalone_mode=False)
""")


def run_probe(tmp_path: Path, env: dict[str, str], flags: list[str] = ()) -> dict:
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "app.py").write_text("import streamlit as st\n", encoding="utf-8")
    home = tmp_path / "home"  # no ~/.streamlit/config.toml of whoever runs the tests
    home.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    out = subprocess.run(
        [sys.executable, str(tmp_path / "probe.py"), *flags, str(tmp_path / "app.py")],
        cwd=ROOT,  # the project's .streamlit/config.toml, as when the app is started from the repository
        env={**clean, "HOME": str(home), "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_effective_settings_are_the_shipped_ones(tmp_path):
    result = run_probe(tmp_path, {})
    assert result["problems"] == []
    assert result["settings"] == {r.option: SHIPPED[r.option] for r in REQUIRED}


def test_the_server_listens_on_this_machine_only_unless_configured(tmp_path):
    assert run_probe(tmp_path, {})["address"] == "127.0.0.1"  # `make run` is not reachable from the network
    assert run_probe(tmp_path, {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"})["address"] == "0.0.0.0"  # behind a proxy


@pytest.mark.parametrize("env, option, shown", [
    ({"STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full"}, "client.showErrorDetails", '"full"'),
    ({"STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false"}, "server.enableXsrfProtection", "false"),
    ({"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "200"}, "server.maxUploadSize", "200"),
    ({"STREAMLIT_CLIENT_DISABLE_DATA_EXPORT": "false"}, "client.disableDataExport", "false"),
])
def test_an_environment_variable_override_is_reported(tmp_path, env, option, shown):
    result = run_probe(tmp_path, env)
    assert [p.split(" but ")[0] for p in result["problems"]] == [f"{option} is {shown}"]


def test_a_command_line_flag_override_is_reported(tmp_path):
    result = run_probe(tmp_path, {}, ["--server.enableCORS=false", "--server.enableStaticServing=true"])
    assert [p.split(" but ")[0] for p in result["problems"]] == [
        "server.enableCORS is false", "server.enableStaticServing is true"]


# What the browser gets, with the shipped values (AppTest renders with the process's config options, which
# patch_config_options sets for the duration of the run).
SECRET = "U0042 铁运公司 /srv/data/safety.duckdb"


def app_run(script: str, options: dict):
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.util import patch_config_options

    with patch_config_options(options):
        return AppTest.from_string(script).run()


def test_an_uncaught_error_shows_no_details_with_the_shipped_config():
    script = f"import streamlit as st\nst.write('before')\nraise ValueError({SECRET!r})\n"
    at = app_run(script, {"client.showErrorDetails": SHIPPED["client.showErrorDetails"]})
    [shown] = at.exception
    assert SECRET not in str(shown.proto)
    assert "ValueError" not in str(shown.proto)
    assert list(shown.stack_trace) == []
    assert "redacted" in shown.message

    # The same script with Streamlit's default shows everything: the test can see a leak.
    leaking = app_run(script, {"client.showErrorDetails": "full"})
    assert SECRET in leaking.exception[0].message and leaking.exception[0].stack_trace


def test_a_bare_expression_is_not_written_with_the_shipped_config():
    script = f"import streamlit as st\nst.write('before')\n{SECRET!r}\n"
    at = app_run(script, {"runner.magicEnabled": SHIPPED["runner.magicEnabled"]})
    assert [m.value for m in at.markdown] == ["before"]
    assert SECRET in [m.value for m in app_run(script, {"runner.magicEnabled": True}).markdown]
