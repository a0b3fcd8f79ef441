"""The Byzantine-robust consensus engine, as a pure function for notebooks and tests.

The runtime calls the same native engine on every analysis; docs/consensus.md explains the
rules and the guarantees.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._core import ConsensusResult, Vote
from ._core import consensus as _consensus

__all__ = ["ConsensusResult", "consensus"]


def consensus(
    votes: Mapping[str, Vote | None],
    weights: Mapping[str, float] | None = None,
    *,
    min_confidence: float = 0.6,
    threshold: float = 0.7,
    min_agents: int = 3,
    price: float | None = None,
    atr: float | None = None,
) -> ConsensusResult:
    """Combine one panel of agent votes into a signal or ``NO_SIGNAL``.

    Args:
        votes: ``{agent_name: Vote | None}``; ``None`` is an abstention.
        weights: ``{agent_name: weight}``, the operator's trust in each agent (finite, >= 0).
            Agents not named weigh 1.0. Naming an agent that is not in ``votes`` is an error.
        min_confidence: votes with a lower confidence do not count (``AGENT_MIN_CONFIDENCE``).
        threshold: agreement needed for a signal (``AGENT_CONSENSUS_THRESHOLD``); values
            below 0.5 act as 0.5.
        min_agents: the quorum's floor (``min_agents_for_signal``).
        price, atr: the symbol's last price and ATR, for target and stop when the winning
            agents give none (target = price +- 2 ATR, stop = price -+ 1 ATR).

    Rules, with n agents and f = (n - 1) // 3 (0 when n = 0):

    1. Only valid votes count: a ``Vote`` with confidence >= ``min_confidence``.
       Abstentions and weak votes still appear in ``to_dict()["agent_details"]``.
    2. Quorum: at least ``max(min_agents, 2f + 1)`` valid votes, else ``NO_SIGNAL``.
    3. Each valid vote scores ``weight * confidence``.
    4. ``agreement`` = the leading action's score / the total score. The leading action is
       the signal when ``agreement >= max(threshold, 0.5)`` and its score is strictly above
       every other action's (a tie is ``NO_SIGNAL``).
    5. ``confidence`` = the lower weighted median of the winners' confidences (weights =
       agent weights) times ``agreement``, at most 0.99; 0 for ``NO_SIGNAL``.
    6. ``strength``: ``STRONG`` when agreement >= 0.8 and at least 2f + 1 agents agree,
       ``MODERATE`` otherwise for a signal, ``WEAK`` for ``NO_SIGNAL``.
    7. ``target_price`` / ``stop_loss``: the weighted median of the winners' own levels when
       they give some, else from ``price`` and ``atr`` for ``BUY``/``SELL``; never <= 0
       (omitted instead).

    ``reasoning`` lists the winners' reasons, strongest vote first (ties by agent name),
    without duplicates. Permuting ``votes`` changes nothing but the order of
    ``faulty_agents`` and ``agent_details``; scaling every weight changes nothing.

    Guarantee: if the honest agents all vote ``A`` with confidence >= max(min_confidence,
    0.5) and the other agents' total weight is at most half the honest agents' total, the
    result is never the opposite of ``A`` (with equal weights: up to f liars among 3f + 1).

    Returns:
        A ``ConsensusResult``: ``.action`` (``"BUY"``, ``"SELL"``, ``"HOLD"`` or
        ``"NO_SIGNAL"``), ``.confidence``, ``.agreement``, ``.strength``, ``.quorum``,
        ``.reason`` (``None`` for a signal), ... and ``.to_dict()``, the protocol's
        ``agents_consensus`` object.

    Raises:
        TypeError: ``votes`` is not a mapping, or a value is neither a ``Vote`` nor ``None``,
            or a weight is not a number.
        InvalidArgumentError: a policy value out of range, a weight < 0 or not finite, a
            weight for an agent not in ``votes``, or a price/ATR that is not a finite number
            > 0 (>= 0 for ATR).
    """
    if not isinstance(votes, Mapping):
        raise TypeError(f"consensus: votes must be a mapping {{agent_name: Vote | None}}, "
                        f"got {type(votes).__name__}")
    if weights is not None and not isinstance(weights, Mapping):
        raise TypeError(f"consensus: weights must be a mapping {{agent_name: float}} or None, "
                        f"got {type(weights).__name__}")
    return _consensus(
        dict(votes),
        None if weights is None else dict(weights),
        min_confidence=min_confidence,
        threshold=threshold,
        min_agents=min_agents,
        price=price,
        atr=atr,
    )
