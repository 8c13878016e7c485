"""The ranking's status heat map, built without Streamlit: cells, symbols, hover text and order, as the browser
receives them (the figure's JSON)."""
import json

import pandas as pd
import pytest

from metrics.reports.charts import status_heatmap

# Two units × three indicators; CM02 has no row for hazards (a cell nobody scored).
ROWS = pd.DataFrame([
    ("CM01", "deaths", "red", 1.0, 0.0, 0.0),
    ("CM01", "injuries", "green", 2.0, 3.0, 4.0),
    ("CM01", "hazards", "yellow", 12.5, 10.0, None),
    ("CM02", "deaths", "green", 0.0, 0.0, 0.0),
    ("CM02", "injuries", "missing", None, 3.0, 4.0),
], columns=["subsidiary", "indicator", "status", "value", "target", "limit"])
UNITS = {"CM01": "东峰煤矿", "CM02": "西山煤矿"}
INDICATORS = {"deaths": "死亡人数", "injuries": "受伤人数", "hazards": "隐患数"}


def trace(order, lang="zh"):
    figure = status_heatmap(ROWS, order, ["deaths", "injuries", "hazards"], UNITS, INDICATORS, lang)
    return json.loads(figure.to_json())["data"][0]


def test_each_cell_has_its_status_symbol_and_colour_band():
    heat = trace(["CM02", "CM01"])
    assert heat["y"] == ["西山煤矿", "东峰煤矿"] and heat["x"] == ["死亡人数", "受伤人数", "隐患数"]
    assert heat["text"] == [["✔", "○", "—"], ["✖", "✔", "▲"]]
    assert (heat["zmin"], heat["zmax"], heat["colorscale"][0], heat["colorscale"][-1]) == (
        0, 5, [0.0, "#2e7d32"], [1.0, "#e0e0e0"])


def test_the_z_grid_is_each_status_band_middle():
    # the status's place in green, yellow, red, missing, none, + 0.5 (the middle of its colour band)
    figure = status_heatmap(ROWS, ["CM01", "CM02"], ["deaths", "injuries", "hazards"], UNITS, INDICATORS, "zh")
    assert figure.data[0].z.tolist() == [[2.5, 0.5, 1.5], [0.5, 3.5, 4.5]]


@pytest.mark.parametrize("lang, row, column, expected", [
    ("zh", 0, 2, "东峰煤矿 · 隐患数<br>▲ 预警<br>本期值 12.5 · 目标值 10 · 控制值 —"),
    ("zh", 1, 1, "西山煤矿 · 受伤人数<br>○ 未报<br>本期值 — · 目标值 3 · 控制值 4"),
    ("en", 0, 0, "东峰煤矿 · 死亡人数<br>✖ Beyond limit<br>Value 1 · Target 0 · Limit 0"),
    ("en", 1, 2, "西山煤矿 · 隐患数<br>— Not scored<br>Value — · Target — · Limit —"),
])
def test_the_hover_names_the_cell_its_status_and_numbers(lang, row, column, expected):
    assert trace(["CM01", "CM02"], lang)["hovertext"][row][column] == expected


def test_one_row_per_unit_asked_for_in_that_order():
    heat = trace(["CM01"])
    assert heat["y"] == ["东峰煤矿"] and heat["text"] == [["✖", "✔", "▲"]]
    assert status_heatmap(ROWS, ["CM01"], ["deaths"], UNITS, INDICATORS, "zh").layout.height == 30 + 190
