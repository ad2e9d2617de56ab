"""The reliability suite: ``--soak`` for the long mode; ``record_outcome`` for the summary table that
``tests/conftest.py`` prints at the end of the run."""

from __future__ import annotations

import pytest

from tests.reliability import report


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="reliability suite: the long soak mode (crash recovery: at least 100 kills, not 20)",
    )


@pytest.fixture(scope="session")
def soak(request: pytest.FixtureRequest) -> bool:
    """True when the suite runs in soak mode (``pytest tests/reliability --soak``)."""
    return bool(request.config.getoption("--soak", default=False))


@pytest.fixture
def record_outcome(request: pytest.FixtureRequest):
    """``record_outcome(report.Outcome(...))``: the scenario's line of the reliability summary."""

    def record(outcome: report.Outcome) -> None:
        request.node.user_properties.append(report.as_property(outcome))

    return record
