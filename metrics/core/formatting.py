"""Numbers as a reader expects them: thousands separators, no trailing zeros, no scientific notation."""
from __future__ import annotations

import math


def display_number(value: float | None, missing: str = "—") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if float(value).is_integer():
        return f"{value:,.0f}"
    decimals = 3 if abs(value) < 1 else 2 if abs(value) < 1000 else 1
    return f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
