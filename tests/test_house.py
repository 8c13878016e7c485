"""The import contract between the parts of metrics/ (README, "The house"), read from the source with ast.

- core imports no other part; store imports only core; auth, ingest, ledger and scoring build on core and store;
  ledger on ingest too (its findings import reads a file as the upload does); reports on scoring too (never
  ingest); access and the command line sit on top, and nothing imports the command line.
- Only the store part imports a database driver.
- pages/, ui/ and app.py reach data only through metrics.access: only ui/data.py imports the store (to open a
  connection and hand it to access), and none of them calls a function of another part that takes a
  connection.
"""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from metrics.store import Connection

ROOT = Path(__file__).resolve().parents[1]
DRIVERS = {"duckdb", "psycopg", "psycopg_pool"}
# What each part may import from metrics, beside itself.
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "auth": {"core", "store"},
    "ingest": {"core", "store"},
    "ledger": {"core", "store", "ingest"},
    "scoring": {"core", "store"},
    "reports": {"core", "store", "scoring"},
    "access": {"core", "store", "auth", "ingest", "ledger", "scoring", "reports"},
    "cli": {"core", "store", "auth", "ingest", "ledger", "scoring", "reports", "access"},
    "__main__": {"core", "cli"},
}


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import in the file, those inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def part_of(module: str, names: list[str]) -> set[str]:
    """The parts of metrics that `from module import names` reaches ("access" for metrics.access)."""
    bits = module.split(".")
    if bits[0] != "metrics":
        return set()
    if len(bits) > 1:
        return {bits[1]}
    return {name for name in names}


def metrics_files() -> list[Path]:
    return sorted((ROOT / "metrics").rglob("*.py"))


def own_part(path: Path) -> str:
    relative = path.relative_to(ROOT / "metrics")
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


@pytest.mark.parametrize("path", metrics_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_part_imports_only_the_parts_below_it(path):
    part = own_part(path)
    if part == "__init__":
        return
    allowed = ALLOWED[part] | {part}
    wrong = [(line, module) for line, module, names in imports(path) if part_of(module, names) - allowed]
    assert not wrong, f"{part} may import only {sorted(ALLOWED[part])}: {wrong}"


@pytest.mark.parametrize("path", metrics_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_store_imports_a_database_driver(path):
    drivers = [(line, module) for line, module, _ in imports(path) if module.split(".")[0] in DRIVERS]
    assert own_part(path) == "store" or not drivers, drivers


def presenting_files() -> list[Path]:
    return sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])


def takes_connection(thing) -> bool:
    """Whether `thing` is a function (or a class) whose first parameter is a store connection."""
    if not callable(thing) or inspect.isclass(thing) and not hasattr(thing, "__init__"):
        return False
    try:
        parameters = list(inspect.signature(thing, eval_str=True).parameters.values())
    except (TypeError, ValueError, NameError):
        return False
    return bool(parameters) and (parameters[0].annotation is Connection or parameters[0].name == "con")


def reached(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every metrics function the file names: imported by name, or an attribute of an
    imported metrics module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("metrics"):
            for alias in node.names:
                target = importlib.import_module(node.module)
                value = getattr(target, alias.name, None) or importlib.import_module(f"{node.module}.{alias.name}")
                if inspect.ismodule(value):
                    modules[alias.asname or alias.name] = value.__name__
                else:
                    found.append((node.lineno, f"{node.module}.{alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("metrics"):
                    modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            found.append((node.lineno, f"{modules[node.value.id]}.{node.attr}"))
    return found


def resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


@pytest.mark.parametrize("path", presenting_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_and_ui_reach_data_only_through_access(path):
    if path.name == "data.py":  # opens connections and hands them to access
        allowed = {"metrics.access", "metrics.store"}
    else:
        allowed = {"metrics.access"}
        store_imports = [(line, module) for line, module, names in imports(path)
                         if module == "metrics.store" or (module == "metrics" and "store" in names)
                         or module.split(".")[0] in DRIVERS]
        assert not store_imports, store_imports
    wrong = [(line, dotted) for line, dotted in reached(path)
             if dotted.rpartition(".")[0] not in allowed and takes_connection(resolve(dotted))]
    assert not wrong, f"read or write data through metrics.access: {wrong}"


def test_the_contract_sees_a_page_that_goes_around_access(tmp_path):
    """The page check finds a direct call to a part that takes a connection, by name or through its module."""
    page = tmp_path / "page.py"
    page.write_text("from metrics.scoring import overview\nfrom metrics.scoring.scores import score\n"
                    "def draw(con):\n    return overview.build_overview(con), score(con)\n", encoding="utf-8")
    names = {dotted for _, dotted in reached(page) if takes_connection(resolve(dotted))}
    assert names == {"metrics.scoring.overview.build_overview", "metrics.scoring.scores.score"}
