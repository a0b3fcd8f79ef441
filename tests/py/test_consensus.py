"""goldensignals.consensus: its guarantees on random panels (hypothesis) and its Python API."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from goldensignals._core import GoldenSignalsError, InvalidArgumentError, Vote
from goldensignals.consensus import ConsensusResult, consensus

# Thousands of panels in all, in a few seconds: each panel is one native call.
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTIONS = ("BUY", "SELL", "HOLD")
OPPOSITE = {"BUY": "SELL", "SELL": "BUY"}
STRENGTH_RANK = {"WEAK": 0, "MODERATE": 1, "STRONG": 2}

# Grid values make exact ties and threshold hits common; floats cover the rest.
confidences = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0]),
    st.floats(0.0, 1.0),
)
dyadic_weights = st.integers(0, 16).map(lambda k: k / 4)
reasons = st.lists(st.sampled_from(["r0", "r1", "r2", "r3"]), max_size=2)
levels = st.one_of(st.none(), st.floats(50.0, 150.0))


@st.composite
def votes_st(draw, action=None, confidence=confidences):
    act = action if action is not None else draw(st.sampled_from(ACTIONS))
    return Vote(act, draw(confidence), draw(reasons), draw(levels), draw(levels))


@st.composite
def panels(draw, max_agents=12, weights=dyadic_weights):
    """(votes, weights): about half the panels lean towards one action so many reach a signal."""
    n = draw(st.integers(0, max_agents))
    lean = draw(st.one_of(st.none(), st.sampled_from(ACTIONS)))
    votes, wts = {}, {}
    for i in range(n):
        name = f"agent{i}"
        if draw(st.integers(0, 9)) < 2:
            votes[name] = None
        else:
            act = lean if lean and draw(st.booleans()) else None
            votes[name] = draw(votes_st(action=act))
        wts[name] = draw(weights)
    return votes, wts


@st.composite
def policies(draw):
    return {
        "min_confidence": draw(st.one_of(st.sampled_from([0.5, 0.6, 0.7]), st.floats(0, 1))),
        "threshold": draw(st.one_of(st.sampled_from([0.0, 0.3, 0.5, 0.7, 0.8, 1.0]),
                                    st.floats(0, 1))),
        "min_agents": draw(st.integers(1, 5)),
    }


def full(r: ConsensusResult) -> dict:
    """Everything a result reports, for exact comparison."""
    d = r.to_dict()
    d.update(action=r.action, confidence=r.confidence, reason=r.reason, reasoning=r.reasoning,
             target_price=r.target_price, stop_loss=r.stop_loss,
             agreeing_agents=r.agreeing_agents, strength=r.strength)
    d["faulty_agents"] = sorted(d["faulty_agents"])
    return d


# ----------------------------------------------------------------------------- properties


@PROPERTY
@given(panels(), policies())
def test_every_result_is_well_formed(panel, policy):
    votes, weights = panel
    r = consensus(votes, weights, price=100.0, atr=2.0, **policy)
    n = len(votes)
    f = (n - 1) // 3 if n else 0
    assert r.quorum == max(policy["min_agents"], 2 * f + 1)
    assert 0.0 <= r.confidence <= 0.99
    assert 0.0 <= r.agreement <= 1.0
    if r.valid_votes < r.quorum:
        assert r.action == "NO_SIGNAL"
    if r.action == "NO_SIGNAL":
        assert r.reason and r.strength == "WEAK" and r.confidence == 0.0
    else:
        assert r.reason is None
        assert r.valid_votes >= r.quorum
        assert r.agreement >= max(policy["threshold"], 0.5)
        assert r.strength in ("STRONG", "MODERATE")
    for level in (r.target_price, r.stop_loss):
        assert level is None or (math.isfinite(level) and level > 0)
    json.dumps(r.to_dict(), allow_nan=False)


@PROPERTY
@given(panels(), policies(), st.randoms(use_true_random=False))
def test_permuting_agents_changes_nothing(panel, policy, rnd):
    votes, weights = panel
    before = full(consensus(votes, weights, price=100.0, atr=2.0, **policy))
    items = list(votes.items())
    rnd.shuffle(items)
    after = full(consensus(dict(items), weights, price=100.0, atr=2.0, **policy))
    assert before == after


@PROPERTY
@given(panels(), policies(), st.integers(-30, 30))
def test_scaling_weights_by_a_power_of_two_changes_nothing(panel, policy, exponent):
    votes, weights = panel
    k = 2.0**exponent
    before = full(consensus(votes, weights, price=100.0, atr=2.0, **policy))
    after = full(consensus(votes, {a: w * k for a, w in weights.items()}, price=100.0, atr=2.0,
                           **policy))
    for d in (before, after):
        del d["agent_details"]
    assert before == after


def even_split(votes, weights, action, min_confidence) -> bool:
    """Whether the winners' weights, sorted by confidence, split exactly in half somewhere."""
    pairs = sorted((v.confidence, Fraction(weights[name])) for name, v in votes.items()
                   if v is not None and v.action == action and v.confidence >= min_confidence)
    total = sum(w for _, w in pairs)
    cum = Fraction(0)
    for _, w in pairs:
        cum += w
        if 2 * cum == total:
            return True
    return False


@PROPERTY
@given(panels(weights=st.floats(0.01, 5.0)), policies(), st.floats(1e-3, 1e3))
def test_scaling_weights_by_any_factor_changes_nothing_beyond_rounding(panel, policy, k):
    votes, weights = panel
    a = consensus(votes, weights, **policy)
    event(a.action)
    b = consensus(votes, {name: w * k for name, w in weights.items()}, **policy)
    threshold = max(policy["threshold"], 0.5)
    if min(abs(a.agreement - threshold), abs(a.agreement - 0.8)) < 1e-9:
        return  # on a boundary one rounding step may cross it
    if even_split(votes, weights, a.action, policy["min_confidence"]):
        return  # the median's boundary: which half "reaches" half the weight is rounding
    assert a.agreement == pytest.approx(b.agreement, rel=1e-12, abs=1e-12)
    assert a.confidence == pytest.approx(b.confidence, rel=1e-12, abs=1e-12)
    assert (a.action, a.strength, a.valid_votes) == (b.action, b.strength, b.valid_votes)


@PROPERTY
@given(panels(), policies(), st.floats(0.0, 0.5, exclude_max=True))
def test_threshold_below_half_acts_as_half(panel, policy, low):
    votes, weights = panel
    policy = dict(policy, threshold=low)
    half = dict(policy, threshold=0.5)
    assert full(consensus(votes, weights, **policy)) == full(consensus(votes, weights, **half))


@st.composite
def buy_panels(draw):
    """Panels with at least three BUY votes, so most of them decide BUY."""
    votes, weights = draw(panels(max_agents=9))
    for i in range(draw(st.integers(3, 6))):
        votes[f"buyer{i}"] = draw(votes_st(action="BUY", confidence=st.floats(0.6, 1.0)))
        weights[f"buyer{i}"] = draw(dyadic_weights)
    return votes, weights


@PROPERTY
@given(buy_panels(), policies(), votes_st(action="HOLD"), dyadic_weights, st.randoms())
def test_adding_a_hold_never_strengthens_a_buy(panel, policy, hold, weight, rnd):
    votes, weights = panel
    before = consensus(votes, weights, **policy)
    event(f"starts from {before.action}")
    if before.action != "BUY":
        return
    items = list(votes.items())
    items.insert(rnd.randint(0, len(items)), ("added", hold))
    after = consensus(dict(items), dict(weights, added=weight), **policy)
    assert after.action in ("BUY", "HOLD", "NO_SIGNAL")
    if after.action == "BUY":
        assert after.agreement <= before.agreement
        assert after.confidence <= before.confidence
        assert STRENGTH_RANK[after.strength] <= STRENGTH_RANK[before.strength]


@st.composite
def byzantine_panels(draw, equal_weights=False):
    """Honest agents all vote one action with confidence >= max(min_confidence, 0.5); the
    others vote anything, with total weight at most half the honest total (in exact eighths)."""
    policy = draw(policies())
    honest_action = draw(st.sampled_from(ACTIONS))
    low = max(policy["min_confidence"], 0.5)
    votes, weights = {}, {}
    budget = 0
    for i in range(draw(st.integers(1, 10))):
        units = 8 if equal_weights else draw(st.integers(1, 32))
        budget += units
        votes[f"honest{i}"] = draw(votes_st(action=honest_action,
                                            confidence=st.one_of(st.just(low), st.floats(low, 1))))
        weights[f"honest{i}"] = units / 8
    budget //= 2
    liar_vote = st.one_of(st.none(), votes_st(action=OPPOSITE.get(honest_action, "BUY"),
                                              confidence=st.one_of(st.just(1.0), confidences)),
                          votes_st())
    if equal_weights:
        liars = [8] * (budget // 8)  # floor(honest / 2): up to f of 3f + 1
    else:
        liars = []
        left = draw(st.sampled_from([budget, draw(st.integers(0, budget))]))
        for _ in range(draw(st.integers(0, 10))):
            units = draw(st.integers(0, left))
            liars.append(units)
            left -= units
        if liars:
            liars[-1] += left
    for i, units in enumerate(liars):
        votes[f"byz{i}"] = draw(liar_vote)
        weights[f"byz{i}"] = units / 8
    items = draw(st.permutations(list(votes.items())))
    return dict(items), weights, policy, honest_action


@PROPERTY
@given(byzantine_panels())
def test_a_byzantine_minority_never_flips_the_signal(case):
    votes, weights, policy, honest = case
    r = consensus(votes, weights, **policy)
    event("honest signal" if r.action == honest else r.action)
    assert r.action in (honest, "NO_SIGNAL"), r.to_dict()  # the honest action or nothing


@PROPERTY
@given(byzantine_panels(equal_weights=True))
def test_up_to_f_of_3f_plus_1_equal_weight_liars_never_flip_the_signal(case):
    votes, weights, policy, honest = case
    r = consensus(votes, weights, **policy)
    event("honest signal" if r.action == honest else r.action)
    assert r.action in (honest, "NO_SIGNAL"), r.to_dict()  # the honest action or nothing


def test_an_honest_supermajority_reaches_its_signal():
    """Safety is not bought with liveness: 7 confident honest agents beat 2 liars."""
    rnd = random.Random(11)
    hits = 0
    for _ in range(300):
        honest = {f"h{i}": Vote("BUY", rnd.uniform(0.8, 1.0)) for i in range(7)}
        liars = {f"z{i}": Vote("SELL", 1.0) for i in range(2)}
        hits += consensus({**honest, **liars}).action == "BUY"
    assert hits == 300


# ----------------------------------------------------------------------------- API


def test_a_signal_and_its_attributes():
    votes = {
        "TechnicalAnalyst": Vote("BUY", 0.88, reasoning=["RSI oversold"]),
        "Momentum": Vote("buy", 0.8, reasoning=["trend up", "RSI oversold"]),
        "MeanReversion": Vote("BUY", 0.7),
        "Sentiment": Vote("SELL", 0.65),
        "FinGPT": None,
    }
    r = consensus(votes, {"Sentiment": 0.5}, price=150.0, atr=2.5)
    assert isinstance(r, ConsensusResult)
    assert r.action == "BUY"
    assert r.agreement == pytest.approx(2.38 / (2.38 + 0.325))
    assert r.confidence == pytest.approx(0.8 * r.agreement)
    assert r.strength == "STRONG"
    assert (r.quorum, r.total_agents, r.completed_agents, r.valid_votes, r.agreeing_agents) == (
        3, 5, 5, 4, 3)
    assert r.reason is None
    assert r.faulty_agents == []
    assert r.reasoning == ["RSI oversold", "trend up"]
    assert r.target_price == pytest.approx(155.0)
    assert r.stop_loss == pytest.approx(147.5)
    assert repr(r).startswith("ConsensusResult(action='BUY', confidence=")


def test_to_dict_is_the_protocols_agents_consensus():
    votes = {"A": Vote("BUY", 0.9), "B": Vote("BUY", 0.8), "C": Vote("SELL", 0.5), "D": None}
    d = consensus(votes, min_agents=2).to_dict()
    for key in ("total_agents", "completed_agents", "quorum", "agreement", "consensus_strength",
                "faulty_agents", "valid_votes", "agent_details"):
        assert key in d
    assert d["consensus_strength"] in ("STRONG", "MODERATE", "WEAK")
    assert isinstance(d["faulty_agents"], list)
    assert set(d["agent_details"]) == set(votes)
    assert d["agent_details"]["A"] == {"name": "A", "signal": "BUY", "confidence": 0.9,
                                       "weight": 1.0, "status": "ok", "latency_ms": 0.0,
                                       "counted": True}
    assert d["agent_details"]["C"]["counted"] is False  # below min_confidence
    assert d["agent_details"]["D"] == {"name": "D", "signal": "ABSTAIN", "confidence": 0.0,
                                       "weight": 1.0, "status": "abstain", "latency_ms": 0.0,
                                       "counted": False}
    for detail in d["agent_details"].values():
        assert isinstance(detail["confidence"], float)
    json.dumps(d, allow_nan=False)


def test_no_signal_says_why():
    r = consensus({"A": Vote("BUY", 0.9), "B": Vote("BUY", 0.9), "C": None, "D": None, "E": None})
    assert r.action == "NO_SIGNAL"
    assert r.reason == "quorum not reached: 2 of 5 agents voted (need 3)"
    assert r.strength == "WEAK" and r.confidence == 0.0
    assert r.target_price is None and r.stop_loss is None

    r = consensus({"A": Vote("BUY", 1.0), "B": Vote("SELL", 1.0)}, {"A": 0.55, "B": 0.45},
                  min_agents=2)
    assert r.reason == "agreement 0.55 below threshold 0.70 (BUY 0.55, SELL 0.45)"
    r = consensus({"A": Vote("BUY", 0.8), "B": Vote("SELL", 0.8)}, threshold=0.5, min_agents=2)
    assert r.reason.startswith("tie: BUY and SELL")


def test_weights_accept_any_real_number():
    votes = {"A": Vote("SELL", 0.9), "B": Vote("SELL", 0.9), "C": Vote("BUY", 0.9)}
    r = consensus(votes, {"A": np.float64(2), "B": np.int64(2), "C": 1})
    assert r.action == "SELL"
    assert r.to_dict()["agent_details"]["B"]["weight"] == 2.0


def test_agent_targets_win_over_atr():
    votes = {n: Vote("SELL", 0.9, target_price=90.0 + i, stop_loss=105.0)
             for i, n in enumerate("ABC")}
    r = consensus(votes, price=100.0, atr=2.0)
    assert (r.target_price, r.stop_loss) == (91.0, 105.0)


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"votes": [("A", None)]}, TypeError, ["votes must be a mapping"]),
        ({"votes": {"A": "BUY"}}, TypeError, ["'A'", "Vote or None", "str"]),
        ({"votes": {"A": None}, "weights": {"Z": 1.0}}, InvalidArgumentError, ["'Z'", "not among"]),
        ({"votes": {"A": None}, "weights": {"A": -1.0}}, InvalidArgumentError,
         ["'A'", "-1", ">= 0"]),
        ({"votes": {"A": None}, "weights": {"A": math.nan}}, InvalidArgumentError, ["'A'", "nan"]),
        ({"votes": {"A": None}, "weights": {"A": "2"}}, TypeError, ["'A'", "number"]),
        ({"votes": {"A": None}, "weights": {"A": True}}, TypeError, ["'A'", "number"]),
        ({"votes": {}, "min_confidence": 1.5}, InvalidArgumentError,
         ["min_confidence", "1.5", "[0, 1]"]),
        ({"votes": {}, "threshold": math.nan}, InvalidArgumentError, ["threshold", "nan"]),
        ({"votes": {}, "min_agents": 0}, InvalidArgumentError, ["min_agents", "0", ">= 1"]),
        ({"votes": {}, "price": -5.0}, InvalidArgumentError, ["price", "-5", "> 0"]),
        ({"votes": {}, "atr": math.inf}, InvalidArgumentError, ["atr", "inf"]),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs, exc, words):
    with pytest.raises(exc) as info:
        consensus(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_invalid_argument_error_is_a_value_error():
    assert issubclass(InvalidArgumentError, ValueError)
    assert issubclass(InvalidArgumentError, GoldenSignalsError)
    with pytest.raises(ValueError, match="weight"):
        consensus({"A": None}, {"A": -1})


def test_results_are_read_only():
    r = consensus({})
    with pytest.raises(AttributeError):
        r.action = "BUY"  # type: ignore[misc]
