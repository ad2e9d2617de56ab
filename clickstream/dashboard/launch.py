"""``clickstream dashboard``: ``streamlit run`` on the dashboard page, for this lakehouse.

Input: the lakehouse path flags and any Streamlit options (``--server.port 8502``,
``--server.headless true``, ...), passed through as given. Output: this process becomes
``streamlit run clickstream/dashboard/app.py`` with every path in its ``CLICKSTREAM_*`` environment.
Usage statistics are off and the server headless unless options say otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from clickstream.core import config

APP = Path(__file__).with_name("app.py")


def streamlit_command(options: list[str]) -> list[str]:
    """The ``streamlit run`` command line; options given later win over the defaults here."""
    # headless: no browser opened and no first-run e-mail prompt; the URL is printed
    defaults = ["--browser.gatherUsageStats", "false", "--server.headless", "true"]
    return [sys.executable, "-m", "streamlit", "run", str(APP), *defaults, *options]


def dashboard_environment(paths: config.LakehousePaths) -> dict[str, str]:
    """This environment with every resolved lakehouse path set, for the page to read."""
    environment = dict(os.environ, **{config.DATA_DIR_ENV: str(paths.root)})
    for setting in config.PATH_SETTINGS:
        environment[setting.env] = str(getattr(paths, setting.name))
    return environment


def run_command(args: argparse.Namespace) -> int:
    """Replace this process with Streamlit: Ctrl-C and signals reach it directly."""
    command = streamlit_command(list(args.streamlit_options))
    os.execve(command[0], command, dashboard_environment(config.paths_from_args(args)))
    return 0  # not reached
