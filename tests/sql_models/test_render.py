"""Jinja rendering: config() records and renders nothing, ref() renders identifiers, var() values."""

from __future__ import annotations

import pytest

from clickstream.sql_models import ModelError
from clickstream.sql_models.render import keep_line_breaks, quote_identifier, render_model

HEADER = """-- a model
{{
    config(
        materialized='append',
        watermark={'column': 'event_time', 'delay': '10 minutes'},
    )
}}
"""


def render(source: str, refable=("silver_events",), variables=None):
    return render_model(source, file="m.sql", refable=set(refable), variables=variables or {})


def test_config_renders_nothing_and_records_its_arguments():
    rendered = render(HEADER + "select 1\n")
    assert rendered.config == {
        "materialized": "append",
        "watermark": {"column": "event_time", "delay": "10 minutes"},
    }
    assert rendered.config_line == 2
    assert "config" not in rendered.text


def test_rendered_text_keeps_every_line_in_place():
    source = HEADER + "{# a\nlong\ncomment #}\nselect {{ var('n') }}\n"
    rendered = render(source, variables={"n": 7})
    assert len(rendered.text.splitlines()) == len(source.splitlines())
    assert rendered.text.splitlines()[10] == "select 7"


def test_compiled_text_drops_the_lines_of_jinja_comments_and_blocks():
    source = "select\n    a,\n    {# why b #}\n    b\n{% if true %}\nfrom t\n{% endif %}\n"
    assert render(source).compiled == "select\n    a,\n    b\nfrom t\n"


def test_keep_line_breaks_moves_them_after_the_tag():
    assert keep_line_breaks("{{ f(\n  1,\n) }}x\ny") == "{{ f(   1, ) }}\n\nx\ny"


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("silver_events", "silver_events"),
        ("revenue_by_product_5m", "revenue_by_product_5m"),
        ("select", "`select`"),
        ("window", "`window`"),
        ("my-model", "`my-model`"),
        ("odd`name", "`odd``name`"),
    ],
)
def test_quote_identifier_only_when_needed(name, identifier):
    assert quote_identifier(name) == identifier


def test_ref_renders_the_identifier_and_records_the_line():
    rendered = render(
        "select *\nfrom {{ ref('silver_events') }}\njoin {{ ref('select') }}",
        ("silver_events", "select"),
    )
    assert rendered.text == "select *\nfrom silver_events\njoin `select`"
    assert rendered.refs == {"silver_events": 2, "select": 3}


def test_var_default_and_override():
    assert render("{{ var('n', 3) }}").text == "3"
    assert render("{{ var('n', 3) }}", variables={"n": 5}).text == "5"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x\n{{ ref('nope') }}", "m.sql:2: unknown ref 'nope'"),
        ("x\n\n{{ var('nope') }}", "m.sql:3: unknown var 'nope'"),
        ("{{ config('append') }}", "m.sql:1: config() takes keyword arguments only"),
        ("x\n{{ 1 / 0 }}", "m.sql:2: Jinja error: division by zero"),
        ("x\n{% if %}", "m.sql:2: Jinja syntax error"),
    ],
)
def test_render_errors_name_the_line(source, message):
    with pytest.raises(ModelError) as raised:
        render(source)
    assert str(raised.value).startswith(message)
