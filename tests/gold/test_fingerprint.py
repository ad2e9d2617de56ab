"""The fingerprint changes with what Spark runs (compiled SQL, config), not with Jinja comments.

Chosen rule: sha256 of the compiled SQL (rendered; the line of a Jinja comment or block tag, trailing
spaces and runs of blank lines removed) plus the config as canonical JSON. So adding, removing or
rewrapping a Jinja comment never changes it; a SQL comment is part of what Spark runs, so it does.
"""

from __future__ import annotations

from clickstream.sql_models import load_project

MODEL = "gold/revenue_by_product_5m.sql"


def fingerprint_after(project_dir, edit) -> str:
    path = project_dir / MODEL
    path.write_text(edit(path.read_text()))
    return load_project(project_dir).models["revenue_by_product_5m"].fingerprint


def test_fingerprint_is_a_sha256_hex(project_dir):
    fingerprint = load_project(project_dir).models["revenue_by_product_5m"].fingerprint
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0


def test_fingerprint_is_stable_and_changes_with_sql_and_config(project_dir):
    original = fingerprint_after(project_dir, lambda text: text)
    assert fingerprint_after(project_dir, lambda text: text) == original
    changed_sql = fingerprint_after(
        project_dir, lambda text: text.replace("sum(quantity)", "sum(quantity) + 0")
    )
    assert changed_sql != original
    changed_config = fingerprint_after(
        project_dir,
        lambda text: text.replace("sum(quantity) + 0", "sum(quantity)").replace(
            "'10 minutes'", "'15 minutes'"
        ),
    )
    assert changed_config not in {original, changed_sql}


def test_fingerprint_ignores_jinja_comments_and_their_whitespace(project_dir):
    original = fingerprint_after(project_dir, lambda text: text)
    commented = fingerprint_after(project_dir, lambda text: "{# why: see README #}\n" + text)
    assert commented == original
    rewrapped = fingerprint_after(
        project_dir,
        lambda text: text.replace("{# why: see README #}", "{#   why:\n    see   README #}"),
    )
    assert rewrapped == original
    inside = fingerprint_after(
        project_dir,
        lambda text: text.replace(
            "    where is_purchase\n", "    {# purchases only #}\n    where is_purchase\n"
        ),
    )
    assert inside == original


def test_sql_comments_are_part_of_the_fingerprint(project_dir):
    original = fingerprint_after(project_dir, lambda text: text)
    assert fingerprint_after(project_dir, lambda text: "-- note\n" + text) != original


def test_fingerprint_changes_with_vars(project_dir):
    path = project_dir / "gold" / "bot_anomalies.sql"
    before = load_project(project_dir).models["bot_anomalies"].fingerprint
    after = load_project(project_dir, vars={"bot_events_per_minute": 51}).models["bot_anomalies"]
    assert path.exists() and after.fingerprint != before
