"""The kernel-to-Python contract is one table: every model code has one row, and what
describe() reports comes from it."""

import numpy as np

from infracast.server.forecast import fit_layout as layout
from infracast.server.forecast.engine import forecast_values


def test_every_code_has_one_model_and_the_candidates_are_contiguous():
    assert sorted(layout.MODELS) == list(range(len(layout.MODELS)))
    names = [model.name for model in layout.MODELS.values()]
    assert len(set(names)) == len(names)
    assert layout.SES + layout.CANDIDATES - 1 == layout.ROBUST_SES < layout.ENSEMBLE


def test_reported_parameters_are_info_fields():
    for model in layout.MODELS.values():
        assert set(model.parameters) <= set(layout.INFO_FIELDS), model.name
    assert len(set(layout.INFO_FIELDS)) == len(layout.INFO_FIELDS)
    # The kernel writes a candidate's four parameters as one slice between code and weight.
    assert layout.MEMBER_LAYOUT[layout.MEMBER_ALPHA:layout.MEMBER_WEIGHT] == ("alpha", "beta", "gamma", "phi")


def test_describe_reads_the_parameters_the_table_names():
    rng = np.random.default_rng(7)
    trend = 0.5 * np.arange(300) + rng.normal(0, 1, 300)
    forecast = forecast_values(trend, 12)
    described = forecast.model
    code = int(forecast.fit[layout.INFO_MODEL])
    assert described.name == layout.MODELS[code].name
    table = set(layout.MODELS[code].parameters)
    assert table <= set(described.parameters)
    assert {k for k in described.parameters if not k.startswith("weight_")} == table
