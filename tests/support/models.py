"""The shipped gold models by role, read from the SQL project, so that a test names a role (the
upsert model, the models that read silver) rather than a file: a model added, renamed or removed
changes what the tests cover without editing them. Tests of one model's semantics (its oracle, its
YAML tests) name that model on purpose."""

from __future__ import annotations

from clickstream.sql_models import load_project

SHIPPED = load_project()
ALL: tuple[str, ...] = tuple(model.name for model in SHIPPED.order())
"""Every model, each after the models it reads."""
READING_SILVER: tuple[str, ...] = tuple(
    name for name in ALL if set(SHIPPED.models[name].depends_on) <= set(SHIPPED.sources)
)
"""The models that read silver alone: a late event reaches them, not the models downstream."""
APPEND: tuple[str, ...] = tuple(
    name for name in ALL if SHIPPED.models[name].config.materialized == "append"
)
"""The append models: compared with the oracle up to their committed watermark."""
UPSERTS: tuple[str, ...] = tuple(
    name for name in ALL if SHIPPED.models[name].config.materialized == "upsert"
)
assert len(UPSERTS) == 1, f"the tests assume one upsert model, the project has {UPSERTS}"
[UPSERT] = UPSERTS
"""The upsert model (MERGE by its unique key): every window, updated as events arrive."""
APPEND_READING_SILVER = next(name for name in ALL if name in APPEND and name in READING_SILVER)
"""The first append model reading silver: the smallest model a streaming run can be given."""
