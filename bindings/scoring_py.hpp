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

// Columns, one list per ScoredForecast field (ballots: a list of (agent, vote, confidence)
// tuples per row, empty for agents' forecasts); times in ms since the epoch.
pybind11::dict scored_columns(const std::vector<ScoredForecast>& rows);

}  // namespace gs::bind
