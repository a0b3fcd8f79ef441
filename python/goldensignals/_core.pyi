"""
GoldenSignals native core (private; import goldensignals instead)
"""
from __future__ import annotations
import collections.abc
from goldensignals import AnalysisTimeoutError
from goldensignals import BadMarketDataError
from goldensignals import GoldenSignalsError
from goldensignals import InvalidArgumentError
from goldensignals import RuntimeStateError
from goldensignals import UnknownSymbolError
import numpy
import numpy.typing
import typing
__all__: list[str] = ['AgentContext', 'AgentUpdate', 'AnalogAgent', 'AnalysisTimeoutError', 'BadMarketDataError', 'ConsensusResult', 'Decision', 'GoldenSignalsError', 'HistoryReader', 'InvalidArgumentError', 'Runtime', 'RuntimeStateError', 'Signal', 'UnknownSymbolError', 'Vote', 'analog_features', 'builtin_agent_names', 'check_settings', 'consensus', 'ind_atr', 'ind_bbands', 'ind_ema', 'ind_macd', 'ind_obv', 'ind_roc', 'ind_rsi', 'ind_sma', 'parse_setting', 'protobuf_descriptor_set', 'random_trade_sharpes', 'read_ohlcv_csv', 'settings_table']
class Vote:
    """
    An agent's vote.
    
    Vote(action, confidence, reasoning=(), target_price=None, stop_loss=None)
    
    action is "BUY", "SELL" or "HOLD" (any case); confidence a number in [0, 1]; reasoning
    a sequence of short strings a person can read; target_price and stop_loss optional prices > 0.
    Raises InvalidArgumentError (a ValueError) for anything else.
    """
    def __eq__(self, arg0: Vote) -> bool:
        ...
    def __hash__(self) -> int:
        ...
    def __init__(self, action: str, confidence: typing.SupportsFloat | typing.SupportsIndex, reasoning: collections.abc.Sequence[str] = [], target_price: typing.SupportsFloat | typing.SupportsIndex | None = None, stop_loss: typing.SupportsFloat | typing.SupportsIndex | None = None) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def action(self) -> str:
        ...
    @property
    def confidence(self) -> float:
        ...
    @property
    def reasoning(self) -> tuple:
        ...
    @property
    def stop_loss(self) -> float | None:
        ...
    @property
    def target_price(self) -> float | None:
        ...
class ConsensusResult:
    """
    The outcome of gs.consensus() over one panel of votes.
    
    action is "BUY", "SELL", "HOLD" or "NO_SIGNAL" (then reason says why); confidence is in
    [0, 0.99]; strength is "STRONG", "MODERATE" or "WEAK". to_dict() gives the protocol's
    agents_consensus object.
    """
    def __repr__(self) -> str:
        ...
    def to_dict(self) -> typing.Any:
        """
        The protocol's agents_consensus object (a new dict each call).
        """
    @property
    def action(self) -> str:
        ...
    @property
    def agreeing_agents(self) -> int:
        ...
    @property
    def agreement(self) -> float:
        ...
    @property
    def completed_agents(self) -> int:
        ...
    @property
    def confidence(self) -> float:
        ...
    @property
    def faulty_agents(self) -> list[str]:
        ...
    @property
    def quorum(self) -> int:
        ...
    @property
    def reason(self) -> str | None:
        ...
    @property
    def reasoning(self) -> list[str]:
        ...
    @property
    def stop_loss(self) -> float | None:
        ...
    @property
    def strength(self) -> str:
        ...
    @property
    def target_price(self) -> float | None:
        ...
    @property
    def total_agents(self) -> int:
        ...
    @property
    def valid_votes(self) -> int:
        ...
class AnalogAgent:
    """
    Native Analog agent (private; use gs.agents.Analog).
    """
    def __init__(self, *, k: typing.SupportsInt | typing.SupportsIndex, horizon: typing.SupportsInt | typing.SupportsIndex, min_history: typing.SupportsInt | typing.SupportsIndex, min_agreement: typing.SupportsFloat | typing.SupportsIndex, cross_symbol: bool, exact_limit: typing.SupportsInt | typing.SupportsIndex, max_vectors: typing.SupportsInt | typing.SupportsIndex, as_of: bool, shuffle_outcomes: bool, seed: typing.SupportsInt | typing.SupportsIndex, name: str, weight: typing.SupportsFloat | typing.SupportsIndex, timeout: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def learn(self, symbol: str, time_ms: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], close: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], volume: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> None:
        ...
    def nearest(self, features: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], symbol: str, as_of_ms: typing.SupportsInt | typing.SupportsIndex) -> list:
        ...
    def size(self) -> int:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def timeout(self) -> float:
        ...
    @property
    def weight(self) -> float:
        ...
class AgentContext:
    """
    What an agent sees for one analysis.
    
    symbol, price (last trade), analysis_id, time (bar open times, int64 ms since the epoch),
    open/high/low/close/volume (read-only float64 NumPy views of the recent bars, oldest first,
    no copy), indicators (dict of the current indicator values), len(ctx) (number of bars).
    """
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def analysis_id(self) -> str:
        ...
    @property
    def close(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
    @property
    def high(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
    @property
    def indicators(self) -> dict:
        ...
    @property
    def low(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
    @property
    def open(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
    @property
    def price(self) -> float:
        ...
    @property
    def symbol(self) -> str:
        ...
    @property
    def time(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
    @property
    def volume(self) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
        ...
class AgentUpdate:
    """
    One agent's step in one analysis (the protocol's agent_update data).
    """
    def __repr__(self) -> str:
        ...
    def to_dict(self) -> typing.Any:
        ...
    @property
    def agent(self) -> str:
        ...
    @property
    def analysis_id(self) -> str:
        ...
    @property
    def confidence(self) -> float:
        ...
    @property
    def latency_ms(self) -> float:
        ...
    @property
    def reasoning(self) -> list[str]:
        ...
    @property
    def signal(self) -> str:
        ...
    @property
    def symbol(self) -> str:
        ...
    @property
    def timestamp(self) -> str:
        ...
class Signal:
    """
    A trading signal: the consensus of an analysis.
    """
    def __repr__(self) -> str:
        ...
    def to_dict(self) -> typing.Any:
        """
        The protocol's signal_update data object.
        """
    @property
    def action(self) -> str:
        ...
    @property
    def agreement(self) -> float:
        ...
    @property
    def analysis_id(self) -> str:
        ...
    @property
    def confidence(self) -> float:
        ...
    @property
    def indicators(self) -> dict:
        ...
    @property
    def market_time(self) -> str:
        ...
    @property
    def market_time_ms(self) -> int:
        ...
    @property
    def position_size(self) -> float:
        ...
    @property
    def price(self) -> float:
        ...
    @property
    def reasoning(self) -> list[str]:
        ...
    @property
    def signal_id(self) -> str:
        ...
    @property
    def stop_loss(self) -> typing.Any:
        ...
    @property
    def strength(self) -> str:
        ...
    @property
    def symbol(self) -> str:
        ...
    @property
    def target_price(self) -> typing.Any:
        ...
    @property
    def timestamp(self) -> str:
        ...
    @property
    def trigger(self) -> str:
        ...
class Decision:
    """
    The end of an analysis: a Signal, or NO_SIGNAL with the reason.
    """
    def __repr__(self) -> str:
        ...
    def to_dict(self) -> typing.Any:
        """
        The protocol's decision_update data object.
        """
    @property
    def action(self) -> str:
        ...
    @property
    def agent_statuses(self) -> dict:
        ...
    @property
    def agreement(self) -> float:
        ...
    @property
    def analysis_id(self) -> str:
        ...
    @property
    def confidence(self) -> float:
        ...
    @property
    def market_time(self) -> str:
        ...
    @property
    def market_time_ms(self) -> int:
        ...
    @property
    def price(self) -> float:
        ...
    @property
    def quorum(self) -> int:
        ...
    @property
    def reason(self) -> str:
        ...
    @property
    def signal(self) -> typing.Any:
        ...
    @property
    def symbol(self) -> str:
        ...
    @property
    def timestamp(self) -> str:
        ...
    @property
    def trigger(self) -> str:
        ...
    @property
    def votes(self) -> dict:
        """
        {agent: Vote or None} for every agent of the analysis.
        """
class Runtime:
    """
    Native runtime (private; use goldensignals.Runtime).
    """
    def __init__(self, *, symbols: collections.abc.Sequence[str], settings: dict, dispatch: typing.Any, aio_submit: typing.Any, scoring: dict = {}, synchronous: bool = False) -> None:
        """
        settings: every setting by keyword, resolved (goldensignals.settings.resolve).
        """
    def add_builtin_agents(self, names: collections.abc.Sequence[str]) -> None:
        ...
    def add_native_agent(self, agent: AnalogAgent) -> None:
        ...
    def add_python_agent(self, name: str, fn: typing.Any, weight: typing.SupportsFloat | typing.SupportsIndex, timeout: typing.SupportsFloat | typing.SupportsIndex | None) -> None:
        ...
    def agent_names(self) -> list[str]:
        ...
    def analyze(self, symbol: str, timeout: typing.SupportsFloat | typing.SupportsIndex | None) -> Decision:
        ...
    def bars_ingested(self) -> int:
        ...
    def context(self, symbol: str) -> typing.Any:
        ...
    def get_policy(self) -> dict:
        ...
    def publish_bar(self, symbol: str, ts_ms: typing.SupportsInt | typing.SupportsIndex, open: typing.SupportsFloat | typing.SupportsIndex, high: typing.SupportsFloat | typing.SupportsIndex, low: typing.SupportsFloat | typing.SupportsIndex, close: typing.SupportsFloat | typing.SupportsIndex, volume: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def publish_tick(self, symbol: str, price: typing.SupportsFloat | typing.SupportsIndex, volume: typing.SupportsFloat | typing.SupportsIndex, ts_ms: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def remove_agent(self, arg0: str) -> bool:
        ...
    def run_feed(self, progress: typing.Any = None) -> bool:
        """
        Synchronous runtimes: runs the feed to its end on this thread; true when complete.
        """
    def scores(self) -> typing.Any:
        ...
    def serve(self, *, settings: dict, web_root: str = '') -> int:
        """
        Serves with every setting by keyword, resolved; returns the bound port.
        """
    def server_metrics(self) -> typing.Any:
        ...
    def server_status(self) -> typing.Any:
        ...
    def set_default_timeout(self, seconds: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def set_event_kinds(self, kinds: collections.abc.Sequence[str]) -> None:
        """
        Event kinds delivered to Python (alerts and logs always are).
        """
    def set_log_level(self, level: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def set_policy(self, *, min_confidence: typing.SupportsFloat | typing.SupportsIndex | None = None, threshold: typing.SupportsFloat | typing.SupportsIndex | None = None, min_agents: typing.SupportsInt | typing.SupportsIndex | None = None) -> None:
        ...
    def set_replay_feed(self, data: dict, speed: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def set_simulated_feed(self, *, seed: typing.SupportsInt | typing.SupportsIndex, drift: typing.SupportsFloat | typing.SupportsIndex, volatility: typing.SupportsFloat | typing.SupportsIndex, interval: typing.SupportsFloat | typing.SupportsIndex, backfill: typing.SupportsInt | typing.SupportsIndex, max_bars: typing.SupportsInt | typing.SupportsIndex, base_volume: typing.SupportsFloat | typing.SupportsIndex, start_prices: collections.abc.Mapping[str, typing.SupportsFloat | typing.SupportsIndex]) -> None:
        ...
    def start(self) -> None:
        ...
    def status(self) -> typing.Any:
        ...
    def stop(self) -> None:
        ...
    def stop_server(self) -> None:
        ...
    def take_scored(self) -> dict:
        ...
    def wait_feed(self, timeout: typing.SupportsFloat | typing.SupportsIndex) -> bool:
        ...
    def wait_idle(self, arg0: str) -> None:
        ...
    @property
    def state(self) -> str:
        ...
    @property
    def symbols(self) -> list[str]:
        ...
class HistoryReader:
    """
    Reads of a history file (private; use Runtime.history / replay). A missing file, or one with no tables yet, reads as empty.
    """
    def __init__(self, path: str) -> None:
        ...
    def latest(self, symbol: str, type: str, limit: typing.SupportsInt | typing.SupportsIndex, before: typing.SupportsInt | typing.SupportsIndex = 0) -> list[tuple[int, str, int, str]]:
        """
        Newest first: (seq, type, ts_ms, json) of `symbol`'s messages of `type`, seq < before (0: no bound).
        """
    def window(self, symbol: str, from_ms: typing.SupportsInt | typing.SupportsIndex, to_ms: typing.SupportsInt | typing.SupportsIndex, limit: typing.SupportsInt | typing.SupportsIndex, newest: bool = False) -> list[tuple[int, str, int, str]]:
        """
        Oldest first: (seq, type, ts_ms, json) of `symbol`'s messages stored in [from_ms, to_ms]; the oldest `limit`, or with newest the newest `limit`.
        """
    @property
    def path(self) -> str:
        ...
def analog_features(close: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], volume: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], j: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
    """
    The Analog agent's feature vector of bar j (None within the first 60 bars or when the last 20 did not move).
    """
def builtin_agent_names() -> list[str]:
    """
    Names of the built-in native agents.
    """
def check_settings(settings: dict) -> None:
    """
    Checks resolved settings as the runtime and the server will when they start.
    """
def consensus(votes: dict, weights: typing.Any = None, *, min_confidence: typing.SupportsFloat | typing.SupportsIndex = 0.6, threshold: typing.SupportsFloat | typing.SupportsIndex = 0.7, min_agents: typing.SupportsInt | typing.SupportsIndex = 3, price: typing.SupportsFloat | typing.SupportsIndex | None = None, atr: typing.SupportsFloat | typing.SupportsIndex | None = None) -> ConsensusResult:
    """
    Byzantine-robust consensus over {agent: Vote | None}; see goldensignals.consensus.
    """
def ind_atr(high: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], low: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], close: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], timeperiod: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    ...
def ind_bbands(real: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], timeperiod: typing.SupportsInt | typing.SupportsIndex, nbdevup: typing.SupportsFloat | typing.SupportsIndex, nbdevdn: typing.SupportsFloat | typing.SupportsIndex) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
    ...
def ind_ema(real: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], timeperiod: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    ...
def ind_macd(real: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], fastperiod: typing.SupportsInt | typing.SupportsIndex, slowperiod: typing.SupportsInt | typing.SupportsIndex, signalperiod: typing.SupportsInt | typing.SupportsIndex) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
    ...
def ind_obv(real: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], volume: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.float64]:
    ...
def ind_roc(real: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], timeperiod: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    ...
def ind_rsi(real: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], timeperiod: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    ...
def ind_sma(real: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], timeperiod: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    ...
def parse_setting(key: str, raw: str, given_as: str) -> typing.Any:
    """
    Parses text as the setting; InvalidArgumentError names it as given_as.
    """
def protobuf_descriptor_set() -> bytes:
    """
    The schema of ?format=protobuf, proto/goldensignals.proto, as a serialized FileDescriptorSet (with the files it imports), as this build compiled it in.
    """
def random_trade_sharpes(symbols: list, lengths: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], buy_share: typing.SupportsFloat | typing.SupportsIndex, cost: typing.SupportsFloat | typing.SupportsIndex, periods_per_year: typing.SupportsFloat | typing.SupportsIndex, draws: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, times: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Sharpe ratio of each of `draws` draws of random trades (gs::random_trade_sharpes); symbols: [(close_to_close, open_to_close, slot, trades)], slot: each bar's index in the portfolio's `times` (unused for one symbol).
    """
def read_ohlcv_csv(path: str) -> dict:
    """
    OHLCV bars of a CSV file, parsed as goldensignals-server --feed replay:PATH parses them: {symbol ('' without a symbol column): (ts_ms, open, high, low, close, volume)}.
    """
def settings_table() -> list:
    """
    Every setting: key, env, flag, kind, default, range, unit, help (one dict each).
    """
__version__: str = '0.1.0'
