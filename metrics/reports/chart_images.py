"""The bulletin's charts as PNG images for the PPTX and PDF exports: the same Plotly figures the meeting page
draws (`sections.figure`), drawn by kaleido in Debian's headless Chromium, offline.

Chromium is started once per process, on the first image, and reused (the first image costs seconds, the next
a fraction of one); it stops when the process exits or on `stop()`. kaleido's own `start_sync_server` is not
used: when the browser fails to start, its server thread dies and every later call waits forever, while here
each call has a time limit and a failure is an exception. MathJax is off (it would be fetched from a CDN) and
plotly.js is the copy inside the plotly package, so nothing goes to the network; kaleido's browser-download
helpers are never called.

Where no image can be made (no Chromium, the browser fails, or images turned off with the environment variable
SAFETY_CHART_IMAGES=off), the charts are left out, not the export: `BulletinCharts.omitted` names them and
`reason` says why, for the caller to print and the documents to show in the chart's place. A browser that
failed is tried again for the next bulletin, not for the next chart of the same one.
"""
from __future__ import annotations

import asyncio
import atexit
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import kaleido
import plotly.graph_objects as go
from kaleido.errors import ChromeNotFoundError

from metrics.reports import sections
from metrics.reports.bulletin import KEY_TRENDS, Bulletin

ENVIRONMENT_SWITCH = "SAFETY_CHART_IMAGES"
"""Set to `off` to make no chart images (a machine without a working Chromium; fast tests)."""
TIMEOUT_SECONDS = 60.0
SCALE = 2
"""Pixels per CSS pixel: sharp on a projector and in print."""
EXPORT_FONT_SIZE = 16
"""The pages' 13 px is too small once a chart is a third of a projected slide."""
RANKING_WIDTH = 560
TREND_WIDTH, TREND_HEIGHT = 860, 400

REASONS = {
    "switched_off": {"zh": "图表图片已关闭", "en": "chart images switched off"},
    "no_renderer": {"zh": "无法生成图表图片（Chromium 浏览器不可用）：{error}",
                    "en": "chart images could not be made (Chromium unavailable): {error}"},
}


class ChartsUnavailable(RuntimeError):
    """No image could be made: the browser is missing, failed to start, or stopped answering."""


class _Renderer:
    """One headless Chromium driven by kaleido from an event loop on a thread of its own."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chart-images", daemon=True)
        self._thread.start()
        try:
            self._kaleido = self._call(self._open())
        except BaseException:
            self._stop_loop()
            raise

    async def _open(self) -> kaleido.Kaleido:
        browser = kaleido.Kaleido(n=1, timeout=TIMEOUT_SECONDS, mathjax=False)
        try:
            await browser.open()
        except BaseException:
            await browser.close()
            raise
        return browser

    def _call(self, coroutine):
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(TIMEOUT_SECONDS)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"no answer from the browser within {TIMEOUT_SECONDS:.0f} s") from None

    def png(self, figure: go.Figure, width: int, height: int) -> bytes:
        return self._call(self._kaleido.calc_fig(
            figure.to_dict(), opts=dict(format="png", width=width, height=height, scale=SCALE)))

    def close(self) -> None:
        try:
            self._call(self._kaleido.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


_lock = threading.Lock()
_renderer: _Renderer | None = None


def png(figure: go.Figure, width: int, height: int) -> bytes:
    """The figure as a PNG of width × height CSS pixels (SCALE times as many real ones), from the process's
    browser (started on the first call). Raises ChartsUnavailable when no image can be made."""
    global _renderer
    with _lock:
        try:
            if _renderer is None:
                _renderer = _Renderer()
            # Plotly's own template, whatever the process set as default (importing Streamlit makes it
            # Streamlit's, which has no automatic margins): the same image from the page and the command.
            return _renderer.png(go.Figure(figure).update_layout(template="plotly"), width, height)
        except ChromeNotFoundError as exc:
            # kaleido's message advises downloading a browser: never; Debian's is the one to install
            raise ChartsUnavailable(f"no Chromium found (Debian: apt-get install chromium, or `make system-deps`); "
                                    f"BROWSER_PATH={os.environ.get('BROWSER_PATH', '(unset)')}") from exc
        except Exception as exc:  # kaleido and choreographer raise many kinds; any of them means no image
            broken, _renderer = _renderer, None  # the next call starts a fresh browser
            if broken is not None:
                _close_quietly(broken)
            raise ChartsUnavailable(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc


def _close_quietly(renderer: _Renderer) -> None:
    try:
        renderer.close()
    except Exception:  # noqa: BLE001 closing a browser that already failed: nothing more to do
        pass


def stop() -> None:
    """Stop the browser (it starts again on the next image)."""
    global _renderer
    with _lock:
        if _renderer is not None:
            _close_quietly(_renderer)
            _renderer = None


atexit.register(stop)


@dataclass(frozen=True)
class ChartImage:
    key: str
    """'ranking' or the indicator code of a trend."""
    title: str
    png: bytes | None
    """None: left out (see BulletinCharts.reason)."""
    width: int
    height: int
    """The size in CSS pixels (the PNG has SCALE times as many): its aspect ratio places it."""


@dataclass(frozen=True)
class BulletinCharts:
    ranking: ChartImage
    trends: tuple[ChartImage, ...]
    """One per bulletin.KEY_TRENDS, in that order."""
    reason: str | None
    """Why charts were left out; None when every chart is drawn."""

    @property
    def omitted(self) -> list[str]:
        """The titles of the charts left out."""
        return [c.title for c in (self.ranking, *self.trends) if c.png is None]


def _for_export(figure: go.Figure, width: int, height: int) -> go.Figure:
    figure.update_layout(font_size=EXPORT_FONT_SIZE, width=width, height=height)
    return figure


def bulletin_charts(bulletin: Bulletin, lang: str, render: bool = True) -> BulletinCharts:
    """The ranking's score bars and the key trends of the bulletin, as on screen. `render=False` (or the
    environment switch) draws none: the exports then carry tables only, which is what happens anyway where
    no browser works."""
    ranking = sections.figure(bulletin, "ranking", lang)
    figures = [("ranking", ranking, RANKING_WIDTH, int(ranking.layout.height))]
    figures += [(code, sections.figure(bulletin, code, lang), TREND_WIDTH, TREND_HEIGHT) for code in KEY_TRENDS]
    reason = None
    if not render or os.environ.get(ENVIRONMENT_SWITCH, "").lower() == "off":
        reason = REASONS["switched_off"][lang]
    images = []
    for key, figure, width, height in figures:
        title = sections.chart_title(bulletin, key, lang)
        image = None
        if reason is None:
            try:
                image = png(_for_export(figure, width, height), width, height)
            except ChartsUnavailable as exc:
                reason = REASONS["no_renderer"][lang].format(error=exc)
        images.append(ChartImage(key, title, image, width, height))
    return BulletinCharts(ranking=images[0], trends=tuple(images[1:]), reason=reason)
