"""``clickstream bench``: throughput, freshness and resource use of every stage, measured.

One module per part (``throughput``, ``catchup``, ``freshness``), shared readers of what the
pipeline writes (``progress``: checkpoints, Delta logs, metrics), process sampling
(``resources``), machine facts (``machine``), and the JSON report and PNG plot (``report``).
The harness only measures: every stage runs as the real command a user runs.
"""
