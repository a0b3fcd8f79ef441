// Scoring options from Python and scored forecasts to Python, for _core.Runtime.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "goldensignals/evaluation/scorer.hpp"

namespace gs::bind {

// Keys (all optional): the fields of ScoringOptions by name (an unknown key is refused and the
// known ones listed).
// `base` with the dict's keys set over it (gs.backtest's knobs over the two settings).
ScoringOptions scoring_from_dict(const pybind11::dict& d, ScoringOptions base = {});

// Columns, one NumPy array per ScoredForecast field (texts: object arrays; a missing target or
// stop: NaN; times: int64 ms since the epoch). The ballots of the consensus's forecasts:
// "ballot_votes" and "ballot_confidence", dicts by agent (in order of first appearance) of a
// column each: the agent's vote or status (None on rows without its ballot), and its
// confidence (NaN unless it voted BUY, SELL or HOLD).
pybind11::dict scored_columns(const std::vector<ScoredForecast>& rows);

}  // namespace gs::bind
