"""The monthly bulletin's content, on a small store with hand-computed values and on the demo."""
from datetime import date

import pandas as pd
import pytest

from metrics import store
from metrics.reports.bulletin import KEY_TRENDS, SlideKind, build_bulletin, file_name
from tests.builders import add_values, memory_store, set_targets

OCT = date(2026, 10, 1)


@pytest.fixture(scope="module")
def demo(pristine):
    with store.connect(pristine, read_only=True) as con:
        return build_bulletin(con, OCT)


def test_slides_in_meeting_order_with_scorecards_on_request(demo):
    kinds = [s.kind for s in demo.slides("zh")]
    assert kinds == [SlideKind.HEADLINE, SlideKind.VETO_AND_RED, SlideKind.RANKING, SlideKind.MOVERS,
                     SlideKind.TRENDS, SlideKind.RECTIFICATION]
    slides = demo.slides("zh", ["CM03", "LG02"])
    assert [(s.kind, s.unit, s.title) for s in slides[-2:]] == [
        (SlideKind.SCORECARD, "CM03", "北川煤矿记分卡"), (SlideKind.SCORECARD, "LG02", "铁运公司记分卡")]
    assert demo.slides("en")[0].title == "The group in Oct 2026"
    assert demo.slides("zh")[0].title == "2026年10月集团安全生产总体情况"


def test_the_veto_comes_first_among_the_flags_and_is_not_listed_again_as_red(demo):
    flagged = demo.flagged()
    assert (flagged[0].kind, flagged[0].subsidiary, flagged[0].indicator) == ("veto", "CM03", "fatalities")
    assert {b.kind for b in flagged} == {"veto", "red"}
    assert [(b.kind, b.subsidiary) for b in flagged if b.indicator == "fatalities"] == [("veto", "CM03")]
    assert len(flagged) == sum(1 for b in demo.breaches if b.kind in ("red", "veto"))  # the veto and 8 red


def test_a_scorecard_of_an_unknown_unit_is_refused(demo):
    with pytest.raises(ValueError, match="no such unit: NOPE"):
        demo.slides("zh", ["NOPE"])


def test_key_trends_are_the_groups_year_to_date_lines_of_this_year_and_last(demo):
    assert set(demo.trends) == set(KEY_TRENDS)
    line = demo.trends["injury_freq_rate"]
    assert len(line) == 22  # January 2025 to October 2026
    assert line["month"].iloc[0] == pd.Timestamp(2025, 1, 1) and line["month"].iloc[-1] == pd.Timestamp(OCT)
    assert line["target"].iloc[-1] == 1.0  # the group default of the demo's targets
    ltifr = demo.trends["ltifr"].set_index("month")["value"]
    assert ltifr[pd.Timestamp(OCT)] == pytest.approx(demo.overview.headlines["ltifr"].value)  # the headline's figure


def test_the_rectification_trend_is_year_to_date_by_hand():
    bulletin = build_bulletin(_small_store(), OCT)
    rate = bulletin.trends["rectification_rate"].set_index("month")["value"]
    # September: 15 found, 15 rectified. October alone: 15 found, 13 rectified (86.7 %); the year to October:
    # 30 found, 28 rectified.
    assert rate[pd.Timestamp(2026, 9, 1)] == pytest.approx(100.0)
    assert rate[pd.Timestamp(OCT)] == pytest.approx(28 / 30 * 100)


def test_file_names():
    assert file_name(OCT, "pptx") == "安全生产月度通报_2026年10月.pptx"
    assert file_name(date(2026, 3, 1), "pdf", "en") == "Monthly-safety-bulletin_2026-03.pdf"


def _small_store():
    con = memory_store()
    set_targets(con, [(2026, "*", "rectification_rate", 95, 85, 10, False), (2026, "*", "injuries", 1, 3, 10, False)])
    rows = []
    for month, found_a, done_a, injuries_b in (("2026-09", 10, 10, 0), ("2026-10", 10, 8, 2)):
        rows += [(month, "A", "hazards_found", found_a), (month, "A", "hazards_rectified", done_a),
                 (month, "A", "injuries", 0),
                 (month, "B", "hazards_found", 5), (month, "B", "hazards_rectified", 5),
                 (month, "B", "injuries", injuries_b),
                 (month, "C", "hazards_found", 0), (month, "C", "hazards_rectified", 0), (month, "C", "injuries", 0)]
    add_values(con, rows)
    return con


def test_movers_and_rectification_by_hand():
    bulletin = build_bulletin(_small_store(), OCT)
    up, down = bulletin.movers()
    # September: everyone green (100). October, year to date: A's rate 18/20 = 90 % (yellow: 100·(90-85)/(95-85)
    # = 50) and injuries 0 (100) → 75; B's injuries 2 (between 1 and 3: 100·(3-2)/(3-1) = 50) and rate 100 → 75;
    # C found no hazards (rate undefined, not scored) and injuries 0 → 100, unchanged.
    assert up.empty
    assert down["subsidiary"].tolist() == ["A", "B"]
    assert down["change"].tolist() == pytest.approx([-25.0, -25.0])
    table = bulletin.rectification().set_index("subsidiary")
    assert table.loc["A", ["found", "rectified", "rate"]].tolist() == pytest.approx([20, 18, 90.0])
    assert table.loc["A", "status"] == "yellow"
    assert table.loc["C", "status"] == "none"
    assert table.loc["*", ["found", "rectified"]].tolist() == [30, 28]
    assert table.loc["*", "rate"] == pytest.approx(28 / 30 * 100)
    assert list(table.index)[-1] == "*"
    card = bulletin.scorecard("C")
    assert card["indicator"].tolist() == ["injuries"]  # the undefined rectification rate is left out
