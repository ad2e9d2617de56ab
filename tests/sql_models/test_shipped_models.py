"""The shipped gold models load, validate and carry the promised configs, lineage and tests."""

from __future__ import annotations

import pytest

from clickstream.core.config import DEFAULT_SQL_DIR
from clickstream.sql_models import Model, ModelConfig, Project, load_project
from clickstream.sql_models.project import PROJECT_DIR_ENV, project_dir

MODELS = ("bot_anomalies", "funnel_summary_10m", "revenue_by_product_5m", "session_funnel")


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project()


def test_every_shipped_model_loads(project):
    assert tuple(project.models) == MODELS
    assert project.root == DEFAULT_SQL_DIR
    assert project.sources == {"silver_events": "silver"}
    assert project.vars == {"bot_events_per_minute": 50}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "bot_anomalies",
            ModelConfig(
                "append", "event_time", "2 minutes", ("window_start", "user_id"), ("window_date",)
            ),
        ),
        (
            "revenue_by_product_5m",
            ModelConfig(
                "upsert",
                "event_time",
                "10 minutes",
                ("window_start", "product_id"),
                ("window_date",),
            ),
        ),
        (
            "session_funnel",
            ModelConfig(
                "append",
                "event_time",
                "10 minutes",
                ("session_id", "session_start"),
                ("session_date",),
            ),
        ),
        (
            "funnel_summary_10m",
            ModelConfig("append", "session_end", "10 minutes", ("window_start",), ("window_date",)),
        ),
    ],
)
def test_configs(project, name, expected):
    assert project.models[name].config == expected


def test_config_as_dict_is_json_ready(project):
    assert project.models["bot_anomalies"].config.as_dict() == {
        "materialized": "append",
        "watermark_column": "event_time",
        "watermark_delay": "2 minutes",
        "unique_key": ["window_start", "user_id"],
        "partition_by": ["window_date"],
    }


def test_dependencies_come_from_the_sql(project):
    assert {name: model.depends_on for name, model in project.models.items()} == {
        "bot_anomalies": ("silver_events",),
        "funnel_summary_10m": ("session_funnel",),
        "revenue_by_product_5m": ("silver_events",),
        "session_funnel": ("silver_events",),
    }


def test_order_puts_dependencies_first(project):
    names = [model.name for model in project.order()]
    assert sorted(names) == sorted(MODELS)
    assert names.index("session_funnel") < names.index("funnel_summary_10m")
    selected = project.order(["funnel_summary_10m", "session_funnel"])
    assert [model.name for model in selected] == ["session_funnel", "funnel_summary_10m"]


def test_lineage(project):
    assert project.upstream("funnel_summary_10m") == {"session_funnel", "silver_events"}
    assert project.downstream("session_funnel") == {"funnel_summary_10m"}
    assert project.downstream("silver_events") == set(MODELS)
    assert project.upstream("bot_anomalies") == {"silver_events"}


def test_compiled_sql_has_no_jinja_and_resolved_refs_and_vars(project):
    for model in project.models.values():
        assert "{{" not in model.compiled_sql and "{%" not in model.compiled_sql
        assert model.compiled_sql.endswith("\n") and "\n\n\n" not in model.compiled_sql
    bots = project.models["bot_anomalies"].compiled_sql
    assert "from silver_events" in bots
    assert "having count(*) > 50" in bots


def test_every_model_documents_its_columns_and_tests_its_grain(project):
    for model in project.models.values():
        assert model.description
        assert set(model.config.unique_key) <= set(model.columns)
        kinds = {test.kind for test in model.tests}
        assert {"not_null", "unique", "expression_is_true"} <= kinds
        [unique] = [test for test in model.tests if test.kind == "unique"]
        assert tuple(unique.params["columns"]) == model.config.unique_key
        assert len({test.name for test in model.tests}) == len(model.tests)


def test_yaml_can_use_vars(project):
    tests = {test.name: test for test in project.models["bot_anomalies"].tests}
    assert tests["expression_is_true_bot_anomalies_event_count_50"].params == {
        "expression": "event_count > 50",
        "column": "event_count",
    }


def test_vars_override_project_defaults():
    project = load_project(vars={"bot_events_per_minute": 80})
    assert "having count(*) > 80" in project.models["bot_anomalies"].compiled_sql
    assert "> 80 as is_bot" in project.models["session_funnel"].compiled_sql


def test_models_are_frozen(project):
    model: Model = project.models["session_funnel"]
    with pytest.raises(AttributeError):
        model.name = "other"  # type: ignore[misc]


def test_project_dir_precedence(tmp_path):
    assert project_dir(None, {}) == DEFAULT_SQL_DIR
    assert project_dir(None, {PROJECT_DIR_ENV: str(tmp_path)}) == tmp_path
    assert project_dir(tmp_path / "flag", {PROJECT_DIR_ENV: str(tmp_path)}) == tmp_path / "flag"


def test_project_dir_from_environment(project_dir, monkeypatch):
    (project_dir / "gold" / "funnel_summary_10m.sql").unlink()
    (project_dir / "gold" / "funnel_summary_10m.yml").unlink()
    monkeypatch.setenv(PROJECT_DIR_ENV, str(project_dir))
    assert "funnel_summary_10m" not in load_project().models
