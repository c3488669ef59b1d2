"""bench/pretix.py's arithmetic: ratios are the median of the per-round ratios, and the
issue's targets are reported from them (no servers here)."""

from __future__ import annotations

from bench import pretix


def _m(rps, p99=10.0):
    return {"req_per_s": rps, "latency": {"p50_ms": 1.0, "p99_ms": p99},
            "statuses": {"200": 10}, "errors": 0}


def _rounds():
    # native list 10, 80, 500 and the floor 200, 1000, 100: per round 0.05, 0.08, 5 -> the
    # median 0.08, where the ratio of the medians would be 80 / 200 = 0.4.
    rounds = []
    for pretix_rps, native_rps, floor_rps in ((10, 10, 200), (20, 80, 1000), (40, 500, 100)):
        rounds.append({"load_average": 1.0,
                       "pretix:list": _m(pretix_rps), "pretix:detail": _m(10),
                       "pretix:download": _m(10),
                       "sqlite:native:list": _m(native_rps, p99=60.0),
                       "sqlite:native:detail": _m(50), "sqlite:native:download": _m(49),
                       "sqlite:dialect:list": _m(100), "sqlite:dialect:detail": _m(50),
                       "sqlite:dialect:download": _m(50),
                       "sqlite:floor:list": _m(floor_rps),
                       "sqlite:portal:customer": _m(40), "sqlite:floor:customer": _m(100)})
    return rounds


def test_ratios_are_medians_of_the_per_round_ratios():
    fig = pretix.figures("sqlite", _rounds())
    assert fig["ratios"]["native list / pretix"] == 4.0  # 1, 4, 12.5
    assert fig["ratios"]["native list / floor JSON"] == 0.08
    assert fig["ratios"]["dialect list / floor JSON"] == 0.5  # 0.5, 0.1, 1
    assert fig["ratios"]["customer page / floor HTML"] == 0.4
    assert fig["targets"]["pretix:list"]["req_per_s"] == 20
    assert fig["targets"]["pretix:list"]["rounds"] == [10, 20, 40]


def test_targets_are_reported_met_or_missed():
    goals = {g["goal"]: g for g in pretix.goals("sqlite", pretix.figures("sqlite", _rounds()))}
    assert goals["native list >= 10x pretix"]["met"] is False
    assert goals["native list >= 40 % of floor JSON"]["met"] is False
    assert goals["dialect list >= 40 % of floor JSON"]["met"] is True
    assert goals["native detail >= 5x pretix"]["met"] is True
    assert goals["native download >= 5x pretix"]["met"] is False  # 4.9x
    assert goals["customer page >= 40 % of floor HTML"]["met"] is True
    assert goals["native list p99 < 50 ms (c=8)"]["met"] is False
    assert goals["dialect list p99 < 50 ms (c=8)"]["met"] is True
    # the p99 targets are SQLite's only
    assert not any("p99" in g["goal"] for g in pretix.goals(
        "postgresql", pretix.figures("postgresql", _rounds())))


def test_the_dialect_is_asked_pretixs_own_paths():
    paths = pretix.pretix_paths("SAMPLECONF-00001")
    assert paths == {
        "list": "/api/v1/organizers/bigevents/events/sampleconf/invoices/",
        "detail": "/api/v1/organizers/bigevents/events/sampleconf/invoices/SAMPLECONF-00001/",
        "download": "/api/v1/organizers/bigevents/events/sampleconf/invoices/"
                    "SAMPLECONF-00001/download/"}
    assert pretix.native_paths(7)["download"] == (
        "/api/v1/organizers/bigevents/events/sampleconf/invoices/7/pdf/")
