"""Synthetic clickstream: funnel sessions, bots and faults landed as JSON-lines files with a ledger.

Input: ``engine.GeneratorSettings``. Output: ``<out>/events_YYYYMMDD_HHMMSS.json`` files and their
ground-truth sidecars ``<out>/_ledger/<file>.json``. The command line is ``clickstream generate``
and ``clickstream inspect raw`` (``cli``).

Modules, in the order data flows: ``catalog`` (products, shoppers, bots as precomputed JSON text),
``formatting`` (ids, timestamps, the line layout), ``sessions`` (funnel sessions and bot bursts,
bucketed by file window), ``faults`` and ``malformed`` (what goes wrong on purpose), ``content``
(a file's bytes and ledger facts), ``ledger`` (sidecars and their aggregate), ``writer`` (atomic
landing), ``engine`` (the run loop, both modes), ``inspect_raw`` (the independent re-count),
``report`` (progress and tables).
"""
