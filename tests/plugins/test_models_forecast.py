"""Forecasting: seasonal series, intervals, season detection, bad histories."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.models import batch, models, predict, provider

from hotcrm_ai.errors import ValidationError
from hotcrm_ai_plugins.models.examples import FORECAST
from hotcrm_ai_plugins.runners.forecast import seasonal_naive
from hotcrm_ai_plugins.runners.forecast_models import METHODS, adjustment
from hotcrm_ai_plugins.runners.forecast_select import conformal_bands, forecast

ID = "revenue-forecast-v1"


def seasonal_series(n: int = 72, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return list(100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1.5, n))


def test_seasonal_series_forecast_follows_the_season() -> None:
    p, m = provider(), models()[ID]
    y = seasonal_series()
    out = predict(p, m, {"history": y, "horizon": 12, "season_length": 12})
    fc = out.prediction["forecast"]
    assert [f["period"] for f in fc] == list(range(1, 13))
    values = np.array([f["value"] for f in fc])
    t = np.arange(72, 84)
    truth = 100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / 12)
    assert np.mean(np.abs(values - truth)) < np.mean(np.abs(seasonal_naive(y, 12, 12) - truth))
    assert all(f["lower"] < f["value"] < f["upper"] for f in fc)
    widths = [f["upper"] - f["lower"] for f in fc]
    assert widths[-1] >= widths[0]
    assert out.metadata["seasonal"] is True and out.metadata["season_length"] == 12
    assert 0 < out.confidence < 100


def test_season_is_detected_when_not_given() -> None:
    out = forecast(seasonal_series(), 6, None)
    assert out.season_length == 12 and out.seasonal


def test_example_and_batch_equal_single() -> None:
    p, m = provider(), models()[ID]
    rows = [
        FORECAST,
        {"history": [10.0, 12.0, 11.0, 13.0], "horizon": 3},
        {"history": seasonal_series(40), "horizon": 2},
    ]
    assert [o.prediction for o in batch(p, m, rows)] == [predict(p, m, r).prediction for r in rows]
    out = predict(p, m, FORECAST)
    assert len(out.prediction["forecast"]) == 6
    assert all(2.5 < f["value"] < 4.5 for f in out.prediction["forecast"])


def test_confidence_falls_with_noise() -> None:
    p, m = provider(), models()[ID]
    rng = np.random.default_rng(3)
    calm = predict(p, m, {"history": list(100 + rng.normal(0, 1, 60)), "horizon": 6}).confidence
    noisy = predict(p, m, {"history": list(100 + rng.normal(0, 30, 60)), "horizon": 6}).confidence
    assert calm > noisy


@pytest.mark.parametrize(
    ("features", "field"),
    [
        ({"history": [], "horizon": 3}, "history"),
        ({"history": [1.0], "horizon": 3}, "history"),
        ({"history": [1.0, math.nan, 2.0], "horizon": 3}, "history[1]"),
        ({"history": [1.0, "2", 3.0], "horizon": 3}, "history[1]"),
        ({"history": [1.0, 10**400, 3.0], "horizon": 3}, "history[1]"),
        ({"history": "1,2,3", "horizon": 3}, "history"),
        ({"history": [1.0, 2.0, 3.0], "horizon": 0}, "horizon"),
        ({"history": [1.0, 2.0, 3.0], "horizon": 10_000}, "horizon"),
        ({"history": [1.0, 2.0, 3.0], "horizon": 2.5}, "horizon"),
        ({"history": [1.0, 2.0, 3.0]}, "horizon"),
        ({"history": [1.0, 2.0, 3.0], "horizon": 2, "season_length": 12}, "history"),
        ({"history": [1.0, 2.0, 3.0], "horizon": 2, "season_length": 0}, "season_length"),
    ],
)
def test_bad_inputs(features: dict, field: str) -> None:
    p, m = provider(), models()[ID]
    with pytest.raises(ValidationError) as info:
        predict(p, m, features)
    assert info.value.errors[0].field == field


def test_constant_and_negative_histories_are_fine() -> None:
    p, m = provider(), models()[ID]
    flat = predict(p, m, {"history": [5.0] * 30, "horizon": 4}).prediction["forecast"]
    assert all(f["value"] == pytest.approx(5.0) for f in flat)
    mixed = predict(p, m, {"history": [-3.0, 4.0, -1.0, 6.0] * 6, "horizon": 4, "season_length": 4})
    assert all(math.isfinite(f["value"]) for f in mixed.prediction["forecast"])


def test_short_trending_seasonal_history_is_seasonally_adjusted() -> None:
    """Three years of a growing monthly series: the trend must not hide the season (differenced test)."""
    air = [
        112,
        118,
        132,
        129,
        121,
        135,
        148,
        148,
        136,
        119,
        104,
        118,
        115,
        126,
        141,
        135,
        125,
        149,
        170,
        170,
        158,
        133,
        114,
        140,
        145,
        150,
        178,
        163,
        172,
        178,
        199,
        199,
        184,
        162,
        146,
        166,
    ]
    out = forecast([float(v) for v in air], 12, 12)
    assert out.seasonal
    values = out.value
    assert values[6] > values[10]  # July above November, as every year in the history


def test_extreme_magnitudes_and_oversized_histories() -> None:
    p, m = provider(), models()[ID]
    huge = predict(p, m, {"history": [1e300 * (1 + 0.1 * (i % 4)) for i in range(24)], "horizon": 4})
    assert all(math.isfinite(f["value"]) and math.isfinite(f["upper"]) for f in huge.prediction["forecast"])
    tiny = predict(p, m, {"history": [1e-300 * (1 + 0.1 * (i % 4)) for i in range(24)], "horizon": 2})
    assert all(math.isfinite(f["value"]) for f in tiny.prediction["forecast"])
    with pytest.raises(ValidationError, match="history"):
        predict(p, m, {"history": [1.0] * 100_001, "horizon": 1})
    long = predict(p, m, {"history": [float(i % 7) for i in range(20_000)], "horizon": 7, "season_length": 7})
    assert len(long.prediction["forecast"]) == 7


def test_history_near_the_float_limit_is_refused_not_answered_with_inf() -> None:
    """Review regression: +-1e308 histories overflowed the interval to inf; now a ValidationError on history."""
    p, m = provider(), models()[ID]
    with pytest.raises(ValidationError) as info:
        predict(p, m, {"history": [1e308, -1e308, 1e308], "horizon": 3})
    assert info.value.errors[0].field == "history"
    with pytest.raises(ValidationError) as info:
        batch(p, m, [FORECAST, {"history": [1e308, -1e308, 1e308], "horizon": 3}])
    assert info.value.errors[0].field == "rows[1].history"


def test_metadata_names_the_chosen_method_and_its_validation_error() -> None:
    p, m = provider(), models()[ID]
    out = predict(p, m, {"history": seasonal_series(96), "horizon": 12, "season_length": 12})
    meta = out.metadata
    names = set(meta["validation"]["candidates"])
    assert {"naive", "snaive", "ses", "ets", "theta", "theta3", "arima"} <= names
    assert set(meta["members"]) <= names and 1 <= len(meta["members"]) <= 3
    assert meta["validation"]["folds"] >= 2 and meta["validation"]["mase"] > 0
    # the chosen method (or combination) validated at least as well as every single candidate
    assert meta["validation"]["mase"] <= min(meta["validation"]["candidates"].values()) + 1e-12
    band80 = meta["interval_80"]
    for f, (lo, hi) in zip(out.prediction["forecast"], band80, strict=True):
        assert f["lower"] <= lo <= f["value"] <= hi <= f["upper"]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_adds_up_and_forecasts_a_trend_season_series_well(name: str) -> None:
    y = np.array(seasonal_series(96))
    adj = adjustment(y, 12, 12)
    parts = METHODS[name](y, 12, 12, adj)
    np.testing.assert_allclose(parts.level + parts.trend + parts.season, parts.value)
    t = np.arange(96, 108)
    truth = 100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / 12)
    # every method is far better than forecasting the mean of the history
    assert np.mean(np.abs(parts.value - truth)) < np.mean(np.abs(y.mean() - truth))


def test_conformal_intervals_cover_as_promised_on_exchangeable_errors() -> None:
    """Errors drawn from one distribution: the conformal 80%/95% bands hold on fresh draws."""
    rng = np.random.default_rng(7)
    steps = np.sqrt(np.arange(1, 7))
    cal = rng.standard_t(5, size=(40, 6)) * steps
    bands = conformal_bands(cal, 6, (0.8, 0.95))
    fresh = rng.standard_t(5, size=(20_000, 6)) * steps
    for level in (0.8, 0.95):
        covered = float(np.mean((-bands[level].below <= fresh) & (fresh <= bands[level].above)))
        assert level - 0.04 <= covered <= level + 0.04


def test_conformal_bands_of_skewed_errors_miss_equally_often_on_each_side() -> None:
    """Right-skewed errors (a spiky series under-forecast now and then): the band reaches further above
    than below, and each side misses about (1 - level) / 2 of fresh draws; a band symmetric around the
    forecast would miss far more often above."""
    rng = np.random.default_rng(8)
    cal = rng.lognormal(0, 0.8, size=(60, 6)) - 1.0
    band = conformal_bands(cal, 6, (0.9,))[0.9]
    assert np.all(band.above > 1.5 * band.below)
    fresh = rng.lognormal(0, 0.8, size=(20_000, 6)) - 1.0
    above, below = float(np.mean(fresh > band.above)), float(np.mean(fresh < -band.below))
    assert 0.03 <= above <= 0.07 and 0.03 <= below <= 0.07
    symmetric = np.quantile(np.abs(cal), 0.9)
    assert float(np.mean(fresh > symmetric)) > above + 0.015


def test_auto_beats_both_naive_methods_on_a_held_back_seasonal_series() -> None:
    """A series the forecaster never saw the end of: MASE below naive and seasonal naive."""
    rng = np.random.default_rng(11)
    t = np.arange(132)
    y = (50 + 0.3 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 1.0, 132)
    train, actual = y[:120], y[120:]
    fc = forecast(train, 12, 12)
    mae = np.mean(np.abs(actual - fc.value))
    assert mae < np.mean(np.abs(actual - seasonal_naive(train, 12, 12)))
    assert mae < np.mean(np.abs(actual - train[-1]))


def test_a_fixed_method_or_combination_can_be_configured_and_a_bad_one_is_refused() -> None:
    import attrs

    from hotcrm_ai.errors import HotCRMAIError

    p, m = provider(), models()[ID]
    row = {"history": seasonal_series(60), "horizon": 6, "season_length": 12}
    fixed = attrs.evolve(m, parameters={**m.parameters, "method": "ses+ets"})
    out = predict(p, fixed, row)
    assert out.metadata["method"] == "combination(ses+ets)" and out.metadata["members"] == ["ses", "ets"]
    bad = attrs.evolve(m, parameters={**m.parameters, "method": "ses+magic"})
    with pytest.raises(HotCRMAIError, match=r"parameters\]: method: expected"):
        predict(provider(), bad, row)  # a fresh provider: runners are cached per provider and artifact


def test_naive2_follows_a_level_shift_and_keeps_the_season() -> None:
    """A seasonal series whose level jumps from 100 to 130 in its last season: Naive2 starts from the new
    level at once and keeps the season, where seasonal naive repeats the old level and naive the last day."""
    t = np.arange(72)
    y = np.where(t >= 66, 130.0, 100.0) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    adj = adjustment(y, 12, 6)
    parts = METHODS["naive2"](y, 6, 12, adj)
    truth = 130 * (1 + 0.2 * np.sin(2 * np.pi * np.arange(72, 78) / 12))
    error = np.mean(np.abs(parts.value - truth))
    assert error < 0.02 * truth.mean()
    assert error < 0.1 * np.mean(np.abs(seasonal_naive(y, 6, 12) - truth))
    assert error < 0.1 * np.mean(np.abs(y[-1] - truth))


def test_log_ets_is_multiplicative_for_positive_series_and_plain_ets_otherwise() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(96)
    growing = 20 * 1.02**t * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.01, 96))
    adj = adjustment(growing, 12, 12)
    log_parts = METHODS["ets_log"](growing, 12, 12, adj)
    truth = 20 * 1.02 ** np.arange(96, 108) * (1 + 0.3 * np.sin(2 * np.pi * np.arange(96, 108) / 12))
    assert np.mean(np.abs(log_parts.value - truth)) < 0.05 * truth.mean()
    mixed = np.array(seasonal_series(48)) - 120.0  # crosses zero: no logarithm, the plain ETS answer
    adj = adjustment(mixed, 12, 6)
    np.testing.assert_array_equal(METHODS["ets_log"](mixed, 6, 12, adj).value, METHODS["ets"](mixed, 6, 12, adj).value)


def test_published_end_holdout_figure_is_what_predict_gives() -> None:
    """metrics.json's end-holdout cafe figure: the last 24 months held back and forecast whole through the
    served model, scaled by the in-sample seasonal-naive error, reproduces the published MASE and coverage."""
    import pandas as pd
    from support.models import DATA, metrics_json

    cafe = pd.read_csv(DATA / "forecasting" / "auscafe_monthly.csv")["turnover_aud_billion"].to_numpy(float)
    train, actual = cafe[:-24], cafe[-24:]
    out = predict(provider(), models()[ID], {"history": list(train), "horizon": 24, "season_length": 12})
    fc = out.prediction["forecast"]
    value = np.array([f["value"] for f in fc])
    inside = np.mean([f["lower"] <= a <= f["upper"] for f, a in zip(fc, actual, strict=True)])
    mase = np.mean(np.abs(actual - value)) / np.mean(np.abs(train[12:] - train[:-12]))
    published = metrics_json()[ID]["holdout_end"]["series"]["auscafe_monthly"]
    assert published["horizon"] == 24 and published["origins"] == 1
    assert mase == pytest.approx(published["mase"], rel=1e-9)
    assert inside == pytest.approx(published["coverage"])
    assert mase < published["snaive_mase"] and mase < published["naive_mase"]


def test_robust_ets_is_not_thrown_by_a_one_day_spike() -> None:
    """A weekly-seasonal series with one day at three times its level just before the cutoff: plain ETS
    carries part of the spike into its level and season; the robust filter cuts it to a few scales."""
    rng = np.random.default_rng(9)
    t = np.arange(126)
    clean = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 6)) + rng.normal(0, 3, 126)
    spiky = clean[:120].copy()
    spiky[-3] *= 3.0
    adj = adjustment(spiky, 6, 6)
    robust = METHODS["ets_robust"](spiky, 6, 6, adj)
    plain = METHODS["ets"](spiky, 6, 6, adj)
    np.testing.assert_allclose(robust.level + robust.trend + robust.season, robust.value)
    truth = 100 * (1 + 0.3 * np.sin(2 * np.pi * t[120:] / 6))
    assert np.mean(np.abs(robust.value - truth)) < 0.5 * np.mean(np.abs(plain.value - truth))
    # without a spike the filter changes little
    calm = METHODS["ets_robust"](clean[:120], 6, 6, adjustment(clean[:120], 6, 6)).value
    assert np.mean(np.abs(calm - truth)) < 0.05 * truth.mean()


def test_selection_keeps_ets_unless_another_option_is_clearly_better() -> None:
    """Trend and season with little noise: ETS (with its own trend and season forms) is kept, and SES,
    which has no trend, is not averaged into a long forecast of a growing series."""
    rng = np.random.default_rng(2)
    t = np.arange(144)
    y = (50 + 0.5 * t) * (1 + 0.15 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 0.5, 144)
    fc = forecast(y[:120], 24, 12)
    assert fc.members == ("ets",) and fc.validation["steps"] == 24
    flat = forecast(y[:120], 24, 12, "ses+ets").value
    actual = y[120:]
    assert np.mean(np.abs(actual - fc.value)) < np.mean(np.abs(actual - flat))


def test_level_drivers_add_up_to_the_level_of_every_weighted_sum_method() -> None:
    from hotcrm_ai_plugins.runners.forecast_select import level_drivers

    y = np.array(seasonal_series(96))
    for method in ("naive", "snaive", "naive2", "ses", "theta", "theta3", "arima", "ses+naive2+theta"):
        fc = forecast(y, 12, 12, method)
        found = level_drivers(y, fc)
        assert found.exact and found.contributions is not None
        assert found.weights.sum() == pytest.approx(1.0, rel=1e-9) and np.all(found.weights >= 0)
        assert found.contributions.sum() == pytest.approx(fc.parts.level[0], rel=1e-9)
    for method in ("ets", "ets_log", "ets_robust", "ses+ets"):
        found = level_drivers(y, forecast(y, 12, 12, method))
        assert not found.exact and found.weights.sum() == pytest.approx(1.0, rel=1e-9)
        assert int(np.argmax(found.weights)) == len(y) - 1


def test_selection_takes_robust_ets_for_a_spiky_series_and_beats_plain_ets() -> None:
    """Weekly-seasonal days with one day in twenty at two to four times the level: validation prefers the
    robust filter, and its forecast of the clean pattern is far closer than plain ETS's."""
    rng = np.random.default_rng(3)
    t = np.arange(240)
    y = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 6)) + rng.normal(0, 4, 240)
    spikes = rng.choice(240, 12, replace=False)
    y[spikes] *= rng.uniform(2, 4, 12)
    truth = 100 * (1 + 0.3 * np.sin(2 * np.pi * t[228:] / 6))
    chosen = forecast(y[:228], 12, 6)
    assert chosen.members == ("ets_robust",)
    plain = forecast(y[:228], 12, 6, "ets")
    assert np.mean(np.abs(chosen.value - truth)) < 0.5 * np.mean(np.abs(plain.value - truth))
