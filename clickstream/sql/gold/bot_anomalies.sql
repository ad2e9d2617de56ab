-- Users sending more than {{ var('bot_events_per_minute') }} events in one minute: likely bots.
-- grain: window_start, user_id | window: 1-minute tumbling on event_time | rows final once closed
{{
    config(
        materialized='append',
        watermark={'column': 'event_time', 'delay': '2 minutes'},
        unique_key=['window_start', 'user_id'],
        partition_by=['window_date'],
    )
}}

with events as (

    select
        user_id,
        event_type,
        event_time
    from {{ ref('silver_events') }}

),

user_minutes as (

    select
        window(event_time, '1 minute') as event_window,
        user_id,
        count(*) as event_count,
        -- not count(distinct ...): a streaming aggregation cannot hold distinct aggregates
        size(collect_set(event_type)) as distinct_event_types,
        min(event_time) as first_seen,
        max(event_time) as last_seen
    from events
    -- by alias: sqlglot reads `window(` right after `group by` as a WINDOW clause
    group by event_window, user_id
    having count(*) > {{ var('bot_events_per_minute') }}

)

select
    event_window.start as window_start,
    event_window.end as window_end,
    user_id,
    event_count,
    distinct_event_types,
    first_seen,
    last_seen,
    to_date(event_window.start) as window_date
from user_minutes
