"""Where the product's data files and the default store live."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
CATALOG_FILE = DATA / "catalog.toml"
GRADES_FILE = DATA / "grades.csv"
SECTORS_FILE = DATA / "sectors.csv"
DEMO_DIR = DATA / "demo"
DEFAULT_DB = DATA / "safety.duckdb"


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """The store to use: an explicit path, else $SAFETY_DB, else data/safety.duckdb."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("SAFETY_DB")
    return Path(env) if env else DEFAULT_DB
