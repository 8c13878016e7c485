"""Every SQL statement of the product, by the module and name it is declared under.

Each part keeps its SQL beside the code that runs it, so a question about all of them (which statements touch
the audit trail, what each timed statement is called) walks the modules of `metrics` instead of one file.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

import metrics

_SQL = re.compile(r"^\s*(WITH|SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|ATTACH|DETACH|COPY|CHECKPOINT)\b",
                  re.IGNORECASE)


def every_statement() -> dict[str, str]:
    """{"metrics.part.module.NAME": statement} for every upper-case string constant that is SQL, migrations
    included (one entry per migration script)."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(metrics.__path__, "metrics."):
        if info.name == "metrics.__main__":
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if not name.isupper():
                continue
            values = value if isinstance(value, tuple) else (value,)
            for i, text in enumerate(values):
                if isinstance(text, str) and _SQL.match(text) and text not in found.values():
                    found[f"{info.name}.{name}" + (f"[{i}]" if isinstance(value, tuple) else "")] = text
    return found
