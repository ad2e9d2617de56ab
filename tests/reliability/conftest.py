"""The reliability suite: ``--soak`` for the long mode, and the summary table at the end of the run."""

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


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not report.OUTCOMES:
        return
    text = report.render(report.OUTCOMES)
    report.SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
    report.SUMMARY_FILE.write_text(text)
    terminalreporter.section("reliability summary")
    terminalreporter.write(text)
    terminalreporter.write_line(f"written to {report.SUMMARY_FILE}")
