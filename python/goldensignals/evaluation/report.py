"""``BacktestReport``: what a backtest measured, as DataFrames, JSON and one HTML file."""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BacktestReport"]

# Columns of .metrics shown in the HTML table, with their headings and formats.
_SHOWN = (
    ("forecasts", "forecasts", "{:.0f}"),
    ("coverage", "coverage", "{:.1%}"),
    ("hit_rate", "hit rate", "{:.1%}"),
    ("hit_rate_lo", "95% low", "{:.1%}"),
    ("hit_rate_hi", "95% high", "{:.1%}"),
    ("always_buy_hit_rate", "always BUY", "{:.1%}"),
    ("brier", "Brier", "{:.4f}"),
    ("brier_skill", "Brier skill", "{:+.4f}"),
    ("ece", "ECE", "{:.4f}"),
    ("ic", "IC", "{:+.3f}"),
    ("ic_t", "IC t (NW)", "{:+.2f}"),
    ("rank_ic", "rank IC", "{:+.3f}"),
    ("total_return", "total return", "{:+.1%}"),
    ("sharpe", "Sharpe", "{:+.2f}"),
    ("sortino", "Sortino", "{:+.2f}"),
    ("max_drawdown", "max drawdown", "{:.1%}"),
    ("exposure", "exposure", "{:.1%}"),
    ("turnover", "turnover / yr", "{:.1f}"),
    ("sharpe_percentile_vs_random", "Sharpe vs random", "{:.0%}"),
)


def fmt(value: Any, spec: str) -> str:
    """A figure as the HTML report shows it ("n/a" for a missing one)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return spec.format(value)


def _clean(x: Any) -> Any:
    """JSON-safe: NaN and infinities become null, NumPy scalars plain numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return x


class BacktestReport:
    """The result of :func:`goldensignals.backtest`.

    - ``signals``: one row per scored consensus signal (symbol, time, action, confidence,
      entry and exit time and price, exit reason, ``return`` after costs, forward return,
      hit, and each agent's vote in ``vote_<agent>``);
    - ``forecasts``: every scored forecast, the agents' BUY/SELL votes included (``source``);
    - ``metrics``: one row per source (the consensus first, then each agent);
    - ``equity``: growth of 1 following the consensus's signals, and buy-and-hold;
    - ``reliability``: per source, the 10-bin reliability table of its confidence;
    - ``meta``: the run's settings, data, speed and what was left unscored.
    """

    def __init__(self, *, signals: pd.DataFrame, forecasts: pd.DataFrame, metrics: pd.DataFrame,
                 equity: pd.DataFrame, reliability: dict[str, pd.DataFrame],
                 meta: dict[str, Any]) -> None:
        self.signals = signals
        self.forecasts = forecasts
        self.metrics = metrics
        self.equity = equity
        self.reliability = reliability
        self.meta = meta

    def __repr__(self) -> str:
        c = self.metrics.loc["consensus"] if "consensus" in self.metrics.index else None
        head = (f"BacktestReport({self.meta.get('data')}, {self.meta.get('bars')} bars, "
                f"horizon {self.meta.get('horizon')}, {len(self.signals)} signals")
        if c is not None:
            head += (f": hit rate {fmt(c['hit_rate'], '{:.1%}')} (always BUY "
                     f"{fmt(c['always_buy_hit_rate'], '{:.1%}')}), IC {fmt(c['ic'], '{:+.3f}')}, "
                     f"Sharpe {fmt(c['sharpe'], '{:+.2f}')}")
        return head + ")"

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-forecast rows, JSON-ready (NaN as None)."""
        sig = self.signals.copy()
        for c in sig.columns:
            if pd.api.types.is_datetime64_any_dtype(sig[c]):
                sig[c] = sig[c].map(lambda t: t.isoformat())
        return _clean({
            "meta": self.meta,
            "metrics": [{"source": k, **row} for k, row in self.metrics.to_dict("index").items()],
            "reliability": {k: v.to_dict("records") for k, v in self.reliability.items()},
            "equity": {"time": [t.isoformat() for t in self.equity.index],
                       **{c: self.equity[c].tolist() for c in self.equity.columns}},
            "signals": sig.to_dict("records"),
        })

    def to_json(self, path: str | None = None, *, indent: int | None = 1) -> str:
        """The report as JSON (written to ``path`` too when given)."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def to_html(self, path: str | None = None) -> str:
        """One self-contained HTML file: the metrics table, the equity curve against
        buy-and-hold, the reliability diagram and the hit rate of each source with its
        interval. The JSON of :meth:`to_dict` is embedded as ``#report-data``."""
        text = _render(self)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text


# -- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#1d232a;
background:#fbfbfa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#5b6570}.note{color:#5b6570;font-size:12px;max-width:900px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e5e8;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f0f2f4;position:sticky;top:0}
tr.consensus td{font-weight:600}.wide{overflow-x:auto}.charts{display:flex;flex-wrap:wrap;gap:24px}
svg{background:#fff;border:1px solid #e3e5e8}svg text{font:11px system-ui,sans-serif;fill:#444}
"""

_PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bc4c00", "#0969da",
            "#cf222e", "#116329", "#6e7781")


def _polyline(xs: np.ndarray, ys: np.ndarray, color: str, width: float = 1.5) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    return f'<polyline fill="none" stroke="{color}" stroke-width="{width}" points="{pts}"/>'


def _equity_svg(eq: pd.DataFrame) -> str:
    w, h, pad = 560, 300, 44
    if eq.empty:
        return f'<svg id="equity" width="{w}" height="{h}"><text x="20" y="30">no trades</text></svg>'
    n = len(eq)
    vals = eq.to_numpy(float)
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    lo, hi = (lo - 0.05, hi + 0.05) if hi - lo < 1e-9 else (lo, hi)
    x = pad + np.arange(n) * (w - 2 * pad) / max(n - 1, 1)
    parts = [f'<svg id="equity" width="{w}" height="{h}" role="img" '
             'aria-label="growth of 1: consensus signals against buy-and-hold">']
    for k, col in enumerate(eq.columns):
        y = h - pad - (vals[:, k] - lo) / (hi - lo) * (h - 2 * pad)
        parts.append(_polyline(x, y, _PALETTE[k % len(_PALETTE)]))
        parts.append(f'<text x="{pad + 8}" y="{16 + 14 * k}" style="fill:{_PALETTE[k % len(_PALETTE)]}">'
                     f'{html.escape(col)}: {vals[-1, k]:.3f}</text>')
    parts.append(f'<text x="4" y="{h - pad}">{lo:.2f}</text><text x="4" y="{pad}">{hi:.2f}</text>')
    parts.append(f'<text x="{pad}" y="{h - 10}">{eq.index[0]:%Y-%m-%d}</text>'
                 f'<text x="{w - pad - 70}" y="{h - 10}">{eq.index[-1]:%Y-%m-%d}</text></svg>')
    return "".join(parts)


def _reliability_svg(rel: dict[str, pd.DataFrame]) -> str:
    w = h = 300
    pad = 40
    s = w - 2 * pad
    parts = [f'<svg id="reliability" width="{w}" height="{h}" role="img" '
             'aria-label="reliability: hit rate against stated confidence">',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{pad}" stroke="#bbb" '
             'stroke-dasharray="4 3"/>',
             f'<text x="{pad}" y="{h - 12}">confidence 0</text><text x="{w - pad - 10}" '
             f'y="{h - 12}">1</text><text x="4" y="{pad}">hit 1</text>']
    for k, (name, t) in enumerate(rel.items()):
        t = t[t["count"] > 0]
        if t.empty:
            continue
        color = _PALETTE[k % len(_PALETTE)]
        xs = pad + t["mean_confidence"].to_numpy(float) * s
        ys = h - pad - t["hit_rate"].to_numpy(float) * s
        parts.append(_polyline(xs, ys, color, 1.2))
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{color}"/>' for a, b in zip(xs, ys)]
        parts.append(f'<text x="{pad + 6}" y="{pad + 12 + 13 * k}" style="fill:{color}">'
                     f'{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _hit_svg(metrics: pd.DataFrame) -> str:
    rows = metrics[np.isfinite(metrics["hit_rate"].to_numpy(float))]
    w, row_h, pad = 560, 22, 150
    h = 40 + row_h * max(len(rows), 1)
    x = lambda v: pad + v * (w - pad - 20)
    parts = [f'<svg id="hitrates" width="{w}" height="{h}" role="img" '
             'aria-label="hit rate of each source with its 95% interval">',
             f'<line x1="{x(0.5):.1f}" y1="10" x2="{x(0.5):.1f}" y2="{h - 20}" stroke="#bbb" '
             'stroke-dasharray="4 3"/>']
    for i, (name, r) in enumerate(rows.iterrows()):
        y = 24 + i * row_h
        color = _PALETTE[i % len(_PALETTE)]
        parts.append(f'<text x="4" y="{y + 4}">{html.escape(str(name))}</text>')
        if math.isfinite(r["hit_rate_lo"]):
            parts.append(f'<line x1="{x(r["hit_rate_lo"]):.1f}" y1="{y}" x2="{x(r["hit_rate_hi"]):.1f}" '
                         f'y2="{y}" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<circle cx="{x(r["hit_rate"]):.1f}" cy="{y}" r="4" fill="{color}"/>')
        if math.isfinite(r.get("always_buy_hit_rate", math.nan)):
            parts.append(f'<line x1="{x(r["always_buy_hit_rate"]):.1f}" y1="{y - 6}" '
                         f'x2="{x(r["always_buy_hit_rate"]):.1f}" y2="{y + 6}" stroke="#444"/>')
    parts.append(f'<text x="{x(0):.0f}" y="{h - 6}">0%</text><text x="{x(0.5) - 10:.0f}" '
                 f'y="{h - 6}">50%</text><text x="{x(1) - 24:.0f}" y="{h - 6}">100%</text></svg>')
    return "".join(parts)


def _day(iso: Any) -> str:
    return html.escape(str(iso)[:10]) if iso else "n/a"


def _render(r: BacktestReport) -> str:
    meta = r.meta
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in _SHOWN)
    body = []
    for name, row in r.metrics.iterrows():
        cells = "".join(
            f'<td data-field="{key}">{fmt(row.get(key), spec)}</td>' for key, _, spec in _SHOWN)
        cls = ' class="consensus"' if name == "consensus" else ""
        body.append(f'<tr{cls} data-source="{html.escape(str(name))}"><td>{html.escape(str(name))}'
                    f"</td>{cells}</tr>")
    data = json.dumps(r.to_dict(), allow_nan=False).replace("</", "<\\/")
    title = f"GoldenSignals backtest: {meta.get('data')}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="meta">{html.escape(', '.join(meta.get('symbols') or []))}: {meta.get('bars')} bars
from {_day(meta.get('first_bar'))} to {_day(meta.get('last_bar'))}, scored from
{_day(meta.get('scored_from'))}; horizon {meta.get('horizon')} bars,
costs {meta.get('costs_bps')} bp per side, exits at {html.escape(str(meta.get('exits')))};
{len(r.signals)} signals scored, {meta.get('unscored')} left open at the end.</div>
<p class="note">A signal made on a bar's close enters at the next bar's open and is held
{meta.get('horizon')} bars (target and stop exit early; both in one bar counts the stop).
Hit rate, Brier and IC judge direction over the whole horizon; the trading figures follow the
signals one at a time per symbol, after costs. "always BUY" is the hit rate a BUY would have had
on the same bars; Brier skill is against the base rate of up-moves; the last column is the
share of random signals with the same turnover that did worse.</p>
<h2>Metrics</h2>
<div class="wide"><table id="metrics"><thead><tr><th>source</th>{head}</tr></thead><tbody>
{''.join(body)}</tbody></table></div>
<h2>Charts</h2>
<div class="charts">{_equity_svg(r.equity)}{_reliability_svg(r.reliability)}</div>
<h2>Hit rate with its 95% interval (tick: always BUY on the same bars)</h2>
{_hit_svg(r.metrics)}
<script type="application/json" id="report-data">{data}</script>
</body></html>
"""
