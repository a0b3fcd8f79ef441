"""The pure-Python peer of the five built-in native agents, for the agent benchmark.

Plain floats and lists, no NumPy in the hot loop: streaming indicators updated bar by bar with
the same arithmetic in the same order as cpp/src/indicators (TA-Lib's), a bounded market
history with an immutable snapshot per bar as gs::MarketState, and the five agents with the
rules and reasoning of cpp/src/agents. On the same bars it gives the same votes; the
benchmark and tests/py/test_builtin_agents_peer.py check that.
"""

from __future__ import annotations

import math

NAN = math.nan
BUY, SELL, HOLD = 0, 1, 2  # the native Action codes
ACTION_NAMES = ("BUY", "SELL", "HOLD")
HISTORY = 512  # bars a MarketState keeps (and shows agents) by default
WARMUP = 50  # the benchmark evaluates agents from this bar index on


# --- streaming indicators -------------------------------------------------------------------


class Sma:
    __slots__ = ("period", "window", "pos", "count", "total", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self.window = [0.0] * period
        self.pos = 0
        self.count = 0
        self.total = 0.0
        self.value = NAN

    def update(self, x: float) -> float:
        self.window[self.pos] = x
        self.pos = 0 if self.pos + 1 == self.period else self.pos + 1
        self.total += x
        self.count += 1
        if self.count < self.period:
            return self.value
        self.value = self.total / self.period
        self.total -= self.window[self.pos]  # the oldest leaves before the next arrives (TA-Lib)
        return self.value


class Ema:
    __slots__ = ("period", "k", "count", "seed", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self.k = 2.0 / (period + 1)
        self.count = 0
        self.seed = 0.0
        self.value = NAN

    def update(self, x: float) -> float:
        self.count += 1
        if self.count < self.period:
            self.seed += x
        elif self.count == self.period:
            self.seed += x
            self.value = self.seed / self.period
        else:
            self.value = ((x - self.value) * self.k) + self.value
        return self.value


def _wilder(prev: float, x: float, period: int) -> float:  # as the native ATR's
    return (prev * (period - 1) + x) / period


class Rsi:
    __slots__ = ("period", "count", "prev", "gain", "loss", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self.count = 0
        self.prev = NAN
        self.gain = 0.0
        self.loss = 0.0
        self.value = NAN

    def update(self, x: float) -> float:
        n = self.period
        self.count += 1
        if self.count == 1:
            self.prev = x
            return self.value
        diff = x - self.prev
        self.prev = x
        gain = 0.0 if diff < 0 else diff
        loss = -diff if diff < 0 else 0.0
        if self.count <= n + 1:  # the first `period` changes are summed, then averaged
            self.gain += gain
            self.loss += loss
            if self.count <= n:
                return self.value
            inv = 1.0 / n
            self.gain *= inv
            self.loss *= inv
        else:
            inv = 1.0 / n
            keep = float(n - 1)
            self.gain = ((self.gain * keep) + gain) * inv
            self.loss = ((self.loss * keep) + loss) * inv
        total = self.gain + self.loss
        self.value = 0.0 if total == 0.0 else 100.0 * (self.gain / total)
        return self.value


class Macd:
    __slots__ = ("fast", "slow", "signal", "kf", "ks", "kg", "count", "fast_sum", "slow_sum",
                 "fast_ema", "slow_ema", "macd_sum", "signal_ema", "value")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self.fast, self.slow, self.signal = fast, slow, signal
        self.kf, self.ks, self.kg = 2.0 / (fast + 1), 2.0 / (slow + 1), 2.0 / (signal + 1)
        self.count = 0
        self.fast_sum = self.slow_sum = self.macd_sum = 0.0
        self.fast_ema = self.slow_ema = self.signal_ema = NAN
        self.value = (NAN, NAN, NAN)

    def update(self, x: float) -> tuple[float, float, float]:
        self.count += 1
        if self.count <= self.slow:
            # Both EMAs start at index slow-1, the fast one from the mean of its last `fast`.
            self.slow_sum += x
            if self.count > self.slow - self.fast:
                self.fast_sum += x
            if self.count < self.slow:
                return self.value
            self.slow_ema = self.slow_sum / self.slow
            self.fast_ema = self.fast_sum / self.fast
        else:
            self.slow_ema = ((x - self.slow_ema) * self.ks) + self.slow_ema
            self.fast_ema = ((x - self.fast_ema) * self.kf) + self.fast_ema
        line = self.fast_ema - self.slow_ema
        m = self.count - self.slow + 1
        if m < self.signal:
            self.macd_sum += line
            return self.value
        if m == self.signal:
            self.macd_sum += line
            self.signal_ema = self.macd_sum / self.signal
        else:
            self.signal_ema = ((line - self.signal_ema) * self.kg) + self.signal_ema
        self.value = (line, self.signal_ema, line - self.signal_ema)
        return self.value


class Bbands:
    __slots__ = ("period", "up", "dn", "window", "pos", "count", "total", "mean", "m2", "last",
                 "run", "value")

    def __init__(self, period: int = 20, up: float = 2.0, dn: float = 2.0) -> None:
        self.period, self.up, self.dn = period, up, dn
        self.window = [0.0] * period
        self.pos = 0
        self.count = 0
        self.total = 0.0  # running sum for the middle band, as Sma
        self.mean = 0.0  # Welford window mean and sum of squared deviations for the variance
        self.m2 = 0.0
        self.last = NAN
        self.run = 0  # inputs in a row equal to the last: a constant window gives exactly 0
        self.value = (NAN, NAN, NAN)

    def update(self, x: float) -> tuple[float, float, float]:
        p = self.period
        old = self.window[self.pos]
        self.window[self.pos] = x
        self.pos = 0 if self.pos + 1 == p else self.pos + 1
        self.total += x
        self.count += 1
        if self.count <= p:
            d = x - self.mean
            self.mean += d / self.count
            self.m2 += d * (x - self.mean)
        else:
            prev_mean = self.mean
            self.mean += (x - old) / p
            self.m2 += (x - old) * ((x - self.mean) + (old - prev_mean))
        self.run = self.run + 1 if x == self.last else 1
        self.last = x
        if self.run >= p:
            self.mean = x
            self.m2 = 0.0
        if self.count < p:
            return self.value
        middle = self.total / p
        self.total -= self.window[self.pos]
        var = self.m2 / p
        sd = math.sqrt(var) if var > 0.0 else 0.0
        self.value = (middle + (sd * self.up), middle, middle - (sd * self.dn))
        return self.value


class Atr:
    __slots__ = ("period", "count", "prev_close", "tr_sum", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self.count = 0
        self.prev_close = NAN
        self.tr_sum = 0.0
        self.value = NAN

    def update(self, high: float, low: float, close: float) -> float:
        n = self.period
        self.count += 1
        pc, self.prev_close = self.prev_close, close
        if self.count == 1:
            return self.value
        tr = max(high - low, abs(pc - high), abs(pc - low))
        if self.count <= n:
            self.tr_sum += tr
        elif self.count == n + 1:
            self.tr_sum += tr
            self.value = self.tr_sum / n
        else:
            self.value = _wilder(self.value, tr, n)
        return self.value


class Roc:
    __slots__ = ("period", "window", "pos", "count", "value")

    def __init__(self, period: int = 10) -> None:
        self.period = period
        self.window = [0.0] * period
        self.pos = 0
        self.count = 0
        self.value = NAN

    def update(self, x: float) -> float:
        old = self.window[self.pos]
        self.window[self.pos] = x
        self.pos = 0 if self.pos + 1 == self.period else self.pos + 1
        self.count += 1
        if self.count <= self.period:
            return self.value
        self.value = ((x / old) - 1.0) * 100.0 if old != 0.0 else 0.0
        return self.value


class Obv:
    __slots__ = ("count", "prev", "value")

    def __init__(self) -> None:
        self.count = 0
        self.prev = NAN
        self.value = NAN

    def update(self, close: float, volume: float) -> float:
        if self.count == 0:
            self.value = volume
        elif close > self.prev:
            self.value += volume
        elif close < self.prev:
            self.value -= volume
        self.count += 1
        self.prev = close
        return self.value


class Indicators:
    """One bar's indicator values (gs::ind::IndicatorValues); NaN while in lead-in."""

    __slots__ = ("sma_20", "sma_50", "ema_12", "ema_26", "rsi_14", "macd", "macd_signal",
                 "macd_hist", "bb_upper", "bb_middle", "bb_lower", "atr_14", "roc_10", "obv",
                 "volume_sma_20", "volume_ratio")


class IndicatorSet:
    def __init__(self) -> None:
        self.sma20, self.sma50 = Sma(20), Sma(50)
        self.ema12, self.ema26 = Ema(12), Ema(26)
        self.rsi14 = Rsi(14)
        self.macd = Macd(12, 26, 9)
        self.bb = Bbands(20, 2.0, 2.0)
        self.atr14 = Atr(14)
        self.roc10 = Roc(10)
        self.obv = Obv()
        self.vol_sma20 = Sma(20)

    def update(self, high: float, low: float, close: float, volume: float) -> Indicators:
        v = Indicators()
        v.sma_20 = self.sma20.update(close)
        v.sma_50 = self.sma50.update(close)
        v.ema_12 = self.ema12.update(close)
        v.ema_26 = self.ema26.update(close)
        v.rsi_14 = self.rsi14.update(close)
        v.macd, v.macd_signal, v.macd_hist = self.macd.update(close)
        v.bb_upper, v.bb_middle, v.bb_lower = self.bb.update(close)
        v.atr_14 = self.atr14.update(high, low, close)
        v.roc_10 = self.roc10.update(close)
        v.obv = self.obv.update(close, volume)
        v.volume_sma_20 = vs = self.vol_sma20.update(volume)
        v.volume_ratio = volume / vs if vs > 0.0 else NAN
        return v


# --- market state and snapshots ---------------------------------------------------------------


class Snapshot:
    """What an agent sees: the last HISTORY bars (oldest first), indicators, last price."""

    __slots__ = ("open", "high", "low", "close", "volume", "ind", "price")


class Market:
    def __init__(self, history: int = HISTORY) -> None:
        self.history = history
        self.o: list[float] = []
        self.h: list[float] = []
        self.l: list[float] = []
        self.c: list[float] = []
        self.v: list[float] = []
        self.indicators = IndicatorSet()
        self.ind: Indicators | None = None

    def on_bar(self, o: float, h: float, l: float, c: float, v: float) -> None:
        for col, x in ((self.o, o), (self.h, h), (self.l, l), (self.c, c), (self.v, v)):
            col.append(x)
            if len(col) > 2 * self.history:  # amortized O(1) trimming of the kept window
                del col[: -self.history]
        self.ind = self.indicators.update(h, l, c, v)

    def snapshot(self) -> Snapshot:
        s = Snapshot()
        k = -self.history
        s.open, s.high, s.low = self.o[k:], self.h[k:], self.l[k:]
        s.close, s.volume = self.c[k:], self.v[k:]
        s.ind = self.ind
        s.price = self.c[-1]
        return s


# --- the five agents ------------------------------------------------------------------------


def _finite(*xs: float) -> bool:
    return all(math.isfinite(x) for x in xs)


def _clamp1(x: float) -> float:
    return min(1.0, max(-1.0, x))


def _side(x: float, eps: float) -> float:
    return 1.0 if x > eps else (-1.0 if x < -eps else 0.0)


def _pct(to: float, frm: float) -> float:
    return (to / frm - 1.0) * 100.0


def _from_lean(lean: float, threshold: float, why: list[str]):
    a = abs(lean)
    if a >= threshold:
        return (BUY if lean > 0.0 else SELL, 0.5 + 0.45 * min(a, 1.0), why)
    return (HOLD, 0.3 + 0.4 * (1.0 - a / threshold), why)


def technical_analyst(s: Snapshot):
    iv, p = s.ind, s.price
    if not _finite(iv.rsi_14, iv.macd, iv.macd_signal, iv.macd_hist, iv.sma_20, iv.sma_50,
                   iv.bb_upper, iv.bb_middle, iv.bb_lower, iv.atr_14, p):
        return None
    why = []
    score = 0.0
    rsi = iv.rsi_14
    if rsi < 30.0:
        score += 1.0
        why.append(f"RSI(14) {rsi:.1f} < 30: oversold")
    elif rsi > 70.0:
        score -= 1.0
        why.append(f"RSI(14) {rsi:.1f} > 70: overbought")
    else:
        why.append(f"RSI(14) {rsi:.1f}: neutral")
    a = iv.atr_14
    macd_score = _side(iv.macd_hist, 0.1 * a) * 0.5 + _side(iv.macd, 0.2 * a) * 1.0
    score += macd_score
    tone = ": bullish" if macd_score > 0.0 else (": bearish" if macd_score < 0.0 else ": flat")
    why.append(f"MACD {iv.macd:.2f} vs signal {iv.macd_signal:.2f}, histogram "
               f"{iv.macd_hist:+.2f}{tone}")
    trend = (_side(p - iv.sma_20, 0.25 * a) * 0.5 + _side(p - iv.sma_50, 0.25 * a) * 0.5
             + _side(iv.sma_20 - iv.sma_50, 0.5 * a) * 1.0)
    score += trend
    tone = ": uptrend" if trend >= 1.5 else (": downtrend" if trend <= -1.5 else
                                             ": no clear trend")
    why.append(f"price {p:.2f} vs SMA20 {iv.sma_20:.2f} and SMA50 {iv.sma_50:.2f}{tone}")
    if p > iv.bb_upper:
        score -= 0.5
        why.append(f"price above the upper Bollinger band {iv.bb_upper:.2f}: stretched")
    elif p < iv.bb_lower:
        score += 0.5
        why.append(f"price below the lower Bollinger band {iv.bb_lower:.2f}: stretched")
    else:
        why.append(f"price inside the Bollinger bands {iv.bb_lower:.2f} - {iv.bb_upper:.2f}")
    lean = score / 5.0
    tone = (": evidence leans bullish" if lean >= 0.35 else
            (": evidence leans bearish" if lean <= -0.35 else ": evidence mixed"))
    why.append(f"score {score:+.1f} of +-5.0{tone}")
    return _from_lean(lean, 0.35, why)


def momentum(s: Snapshot):
    iv, c = s.ind, s.close
    n = len(c)
    if n < 21 or not _finite(iv.roc_10, iv.ema_12, iv.ema_26) or not iv.ema_26 > 0.0:
        return None
    roc = iv.roc_10
    spread = _pct(iv.ema_12, iv.ema_26)
    r5 = _pct(c[n - 1], c[n - 6])
    r20 = _pct(c[n - 1], c[n - 21])
    s_roc = _clamp1(roc / 5.0)
    s_ema = _clamp1(spread / 2.0)
    s_ret = _clamp1((r5 / 2.5 + r20 / 10.0) / 2.0)
    lean = (s_roc + s_ema + s_ret) / 3.0
    tone = (": strong upward momentum" if s_roc >= 0.5 else
            (": strong downward momentum" if s_roc <= -0.5 else ": weak momentum"))
    where = " above" if iv.ema_12 >= iv.ema_26 else " below"
    follow = (": following the uptrend" if lean >= 0.35 else
              (": following the downtrend" if lean <= -0.35 else ": no strong trend to follow"))
    why = [
        f"ROC(10) {roc:+.2f}%{tone}",
        f"EMA(12) {iv.ema_12:.2f}{where} EMA(26) {iv.ema_26:.2f} ({spread:+.2f}%)",
        f"returns: 5-bar {r5:+.2f}%, 20-bar {r20:+.2f}%",
        f"momentum score {lean:+.2f}{follow}",
    ]
    return _from_lean(lean, 0.35, why)


def mean_reversion(s: Snapshot):
    iv, p = s.ind, s.price
    if not _finite(iv.bb_upper, iv.bb_middle, iv.bb_lower, iv.rsi_14, p):
        return None
    sigma = (iv.bb_upper - iv.bb_middle) / 2.0
    if not sigma > 0.0:
        return (HOLD, 0.5, [f"Bollinger bands have zero width at {iv.bb_middle:.2f}: "
                            "nothing stretched to fade"])
    z = (p - iv.bb_middle) / sigma
    az = abs(z)
    why = [f"Bollinger z-score {z:+.2f} (price {p:.2f}, middle {iv.bb_middle:.2f}, bands "
           f"{iv.bb_lower:.2f} - {iv.bb_upper:.2f})"]
    rsi = iv.rsi_14
    hot, cold = rsi > 70.0, rsi < 30.0
    confirms = (z > 0.0 and hot) or (z < 0.0 and cold)
    if hot or cold:
        why.append(f"RSI(14) {rsi:.1f}" + (" > 70: overbought" if hot else " < 30: oversold"))
    else:
        why.append(f"RSI(14) {rsi:.1f}: not extreme")
    if az >= 2.5 or (az >= 2.0 and confirms):
        conf = min(0.95, 0.5 + 0.15 * (az - 2.0) + (0.15 if confirms else 0.0))
        why.append("far above the upper band: fade the rise" if z > 0.0 else
                   "far below the lower band: fade the drop")
        return (SELL if z > 0.0 else BUY, conf, why)
    if az < 1.0:
        why.append("within 1 sigma of the middle band: nothing to fade")
        return (HOLD, 0.6 - 0.2 * az, why)
    why.append("stretched but not extreme: wait")
    return (HOLD, 0.35, why)


def volume_analyst(s: Snapshot):
    iv, c, vol = s.ind, s.close, s.volume
    n = len(c)
    if n < 11 or not _finite(iv.volume_ratio, iv.obv):
        return None
    obv_delta = 0.0
    traded = 0.0
    for i in range(n - 10, n):
        if c[i] > c[i - 1]:
            obv_delta += vol[i]
        elif c[i] < c[i - 1]:
            obv_delta -= vol[i]
        traded += vol[i]
    if not traded > 0.0:
        return None
    flow = obv_delta / traded
    move = _pct(c[n - 1], c[n - 11])
    d = 1 if move > 0.5 else (-1 if move < -0.5 else 0)
    fd = 1 if flow >= 0.2 else (-1 if flow <= -0.2 else 0)
    tone = ": buying pressure" if fd > 0 else (": selling pressure" if fd < 0 else ": balanced")
    why = [
        f"price {move:+.2f}% over 10 bars",
        f"OBV {obv_delta:+.0f} over 10 bars ({flow:+.2f} of volume traded){tone}",
        f"volume ratio {iv.volume_ratio:.2f}x its 20-bar average",
    ]
    if d != 0 and d == fd:
        surge = min(1.0, max(0.0, iv.volume_ratio - 1.0))
        conf = min(0.95, 0.45 + 0.3 * abs(flow) + 0.15 * surge)
        why.append("volume confirms the rise" if d > 0 else "volume confirms the fall")
        return (BUY if d > 0 else SELL, conf, why)
    if d != 0 and fd == -d:
        why.append("divergence: price rising while OBV falls" if d > 0 else
                   "divergence: price falling while OBV rises")
        return (HOLD, 0.5, why)
    why.append("no volume-backed move")
    return (HOLD, 0.4, why)


def volatility_regime(s: Snapshot):
    iv, h, l, c = s.ind, s.high, s.low, s.close
    n = len(c)
    p = s.price
    if (n < 51 or not _finite(iv.atr_14, iv.sma_20, iv.sma_50, p) or not p > 0.0
            or not iv.atr_14 > 0.0):
        return None
    tr_sum = 0.0
    for i in range(n - 50, n):
        pc = c[i - 1]
        tr_sum += max(h[i] - l[i], max(abs(h[i] - pc), abs(l[i] - pc)))
    base = tr_sum / 50.0
    if not base > 0.0:
        return None
    a = iv.atr_14
    ratio = a / base
    atr_pct = a / p * 100.0
    r5 = _pct(c[n - 1], c[n - 6])
    why = [f"ATR(14) {a:.2f} ({atr_pct:.2f}% of price) is {ratio:.2f}x the 50-bar average "
           f"true range {base:.2f}"]
    if ratio >= 1.5:
        if r5 < -atr_pct:  # a fall of more than one ATR in 5 bars: a downside spike
            why.append(f"volatility spike with 5-bar return {r5:+.2f}%: downside")
            why.append("sell into a downside volatility spike")
            return (SELL, 0.45 + 0.3 * min(1.0, (ratio - 1.5) / 1.5), why)
        why.append(f"volatility spike with 5-bar return {r5:+.2f}%: stand aside")
        return (HOLD, 0.55, why)
    calm = ratio < 1.2
    ps = _side(p - iv.sma_50, 0.5 * a)
    trend = int(ps) if ps == _side(iv.sma_20 - iv.sma_50, 0.25 * a) else 0
    why.append(("calm regime" if calm else "normal regime")
               + f"; price {p:.2f}, SMA20 {iv.sma_20:.2f}, SMA50 {iv.sma_50:.2f}")
    if trend == 0:
        why.append("no clear trend to follow")
        return (HOLD, 0.4, why)
    strength = min(1.0, abs(p - iv.sma_50) / (3.0 * a))
    conf = (0.4 + 0.45 * strength) * (1.0 if calm else 0.8)
    why.append("follow the uptrend" if trend > 0 else "follow the downtrend")
    return (BUY if trend > 0 else SELL, conf, why)


AGENTS = (
    ("TechnicalAnalyst", technical_analyst),
    ("Momentum", momentum),
    ("MeanReversion", mean_reversion),
    ("VolumeAnalyst", volume_analyst),
    ("VolatilityRegime", volatility_regime),
)


# --- the benchmark and cross-check drivers ---------------------------------------------------


def agent_votes(o, h, l, c, v):
    """Every agent's vote on every bar from WARMUP on: a list (bars) of lists (agents) of
    (action, confidence, reasoning) or None, as _gs_bench.builtin_agent_votes (bench/native.py)."""
    market = Market()
    out = []
    for i in range(len(c)):
        market.on_bar(o[i], h[i], l[i], c[i], v[i])
        if i < WARMUP:
            out.append([None] * len(AGENTS))
            continue
        snap = market.snapshot()
        out.append([fn(snap) for _, fn in AGENTS])
    return out


def bench(o, h, l, c, v, repeats: int = 1, chunk: int = 32) -> dict:
    """The native _gs_bench.native_agents, in Python: bars through a fresh Market per repeat,
    snapshots kept per chunk, then all five agents on each; the two parts timed apart."""
    import time

    cpu = time.thread_time
    bars = list(zip(o, h, l, c, v))
    agents = [fn for _, fn in AGENTS]
    votes = [0, 0, 0, 0]
    evaluations = market_cpu = agents_cpu = 0.0
    wall0, cpu0 = time.perf_counter(), cpu()
    for _ in range(repeats):
        market = Market()
        for start in range(0, len(bars), chunk):
            t0 = cpu()
            kept = []
            for i in range(start, min(len(bars), start + chunk)):
                market.on_bar(*bars[i])
                if i >= WARMUP:
                    kept.append(market.snapshot())
            t1 = cpu()
            for snap in kept:
                for fn in agents:
                    vote = fn(snap)
                    votes[3 if vote is None else vote[0]] += 1
            t2 = cpu()
            evaluations += len(kept) * len(agents)
            market_cpu += t1 - t0
            agents_cpu += t2 - t1
    total_cpu = cpu() - cpu0
    n_bars = len(bars) * repeats
    return {
        "evaluations": int(evaluations),
        "bars": n_bars,
        "cpu_seconds": total_cpu,
        "wall_seconds": time.perf_counter() - wall0,
        "agents_cpu_seconds": agents_cpu,
        "market_cpu_seconds": market_cpu,
        "evaluations_per_cpu_second": evaluations / agents_cpu if agents_cpu > 0 else 0.0,
        "bars_per_cpu_second": n_bars / total_cpu if total_cpu > 0 else 0.0,
        "votes": dict(zip(("BUY", "SELL", "HOLD", "ABSTAIN"), votes)),
    }
