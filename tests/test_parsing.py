"""Property-based: any value written in any accepted notation reads back as the same number or month."""
import math
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from metrics.core.months import parse_month
from metrics.core.parsing import parse_number

FULL_WIDTH = str.maketrans("0123456789.,+-eE", "０１２３４５６７８９．，＋－ｅＥ")
values = st.one_of(st.integers(min_value=0, max_value=10**12).map(float),
                   st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False))


def grouped(value: float) -> str:
    text = repr(value)
    whole, _, fraction = text.partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


NOTATIONS = {
    "plain": repr,
    "integer": lambda v: str(int(v)) if v.is_integer() else repr(v),
    "thousands": grouped,
    "full width": lambda v: repr(v).translate(FULL_WIDTH),
    "full width thousands": lambda v: grouped(v).translate(FULL_WIDTH),
    "spaces": lambda v: f"  {v!r}\t ",
    "scientific": lambda v: f"{v:.17E}",
    "scientific lower": lambda v: f"{v:.17e}",
    "plus sign": lambda v: f"+{v!r}",
}


@pytest.mark.parametrize("notation", NOTATIONS)
@given(value=values)
@settings(max_examples=150, deadline=None)
def test_every_notation_reads_back_the_same_number(notation, value):
    if "e" in repr(value).lower() and notation in ("thousands", "full width thousands", "integer"):
        return  # repr already uses an exponent: grouping it is not a notation anyone writes
    text = NOTATIONS[notation](value)
    assert parse_number(text) == value


@given(value=st.integers(min_value=1000, max_value=10**9))
def test_excel_scientific_notation(value):
    assert parse_number(f"{value:.1E}".replace("E+0", "E+")) == float(f"{value:.1E}")
    assert parse_number("1.5E+05") == 150000


@pytest.mark.parametrize("text", ["", "NA", "N/A", "-", "abc", "1,5", "1,23,456", "12,3456", "1.2.3", "95%",
                                  "nan", "inf", "1e400", "￥100", "1 234", "0x10", "一百"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_leading_zeros_and_negative_numbers_parse_exactly():
    assert parse_number("007") == 7
    assert parse_number("-5") == -5  # parsed; the validator rejects negatives with its own message
    assert parse_number("－５") == -5


@given(year=st.integers(min_value=1900, max_value=2999), month=st.integers(min_value=1, max_value=12),
       spaces=st.sampled_from(["", " ", "  "]))
def test_every_month_notation_reads_back_the_same_month(year, month, spaces):
    expected = date(year, month, 1)
    for text in (f"{year}-{month:02d}", f"{year}-{month}", f"{year}/{month:02d}", f"{year}/{month}",
                 f"{year}年{month}月", f"{year}年{month:02d}月", f"{year}{month:02d}",
                 f"{year}-{month:02d}".translate(FULL_WIDTH), f"{year}.{month:02d}"):
        assert parse_month(f"{spaces}{text}{spaces}") == expected, text


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-10", "Oct 2026", "2026", "20261", "2026年13月", ""])
def test_bad_months_are_refused(text):
    with pytest.raises(ValueError, match="not a month"):
        parse_month(text)


@pytest.mark.parametrize("text", ["1²", "①", "²", "١٢", "۱۲", "१२", "1⁰", "１²", "⑫"])
def test_only_ascii_and_full_width_digits_make_a_number(text):
    """NFKC would read 1² as 12 and ① as 1: a superscript, a circled digit or another script's digit is refused."""
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize("text", ["-0", "-0.0", "－０", "-0E+00", "−0"])
def test_minus_zero_reads_as_zero(text):
    value = parse_number(text)
    assert value == 0 and math.copysign(1.0, value) == 1.0


@pytest.mark.parametrize("text", ["２０２６年１⁰月", "2026-1⁰", "²⁰²⁶-10", "٢٠٢٦-10", "2026-①"])
def test_a_month_in_superscripts_or_other_digits_is_refused(text):
    with pytest.raises(ValueError, match="not a month"):
        parse_month(text)
