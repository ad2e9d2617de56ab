-- One row per browsing session: funnel steps, revenue, conversion and a bot flag.
-- grain: session_id, session_start | window: session, closed after 10 minutes without events
{{
    config(
        materialized='append',
        watermark={'column': 'event_time', 'delay': '10 minutes'},
        unique_key=['session_id', 'session_start'],
        partition_by=['session_date'],
    )
}}

with events as (

    select
        session_id,
        user_id,
        event_type,
        event_time,
        revenue
    from {{ ref('silver_events') }}
    -- session_id is optional (server-side producers send none): such events count in every
    -- other model, not in a session
    where session_id is not null

),

sessions as (

    select
        session_window(event_time, '10 minutes') as activity_window,
        session_id,
        user_id,
        max(event_time) as last_event_time,
        -- from first to last event: the session window itself ends 10 idle minutes later
        (unix_millis(max(event_time)) - unix_millis(min(event_time))) / 60000.0 as active_minutes,
        count(*) as event_count,
        count_if(event_type = 'page_view') as page_views,
        count_if(event_type = 'search') as searches,
        count_if(event_type = 'add_to_cart') as add_to_carts,
        count_if(event_type = 'purchase') as purchases,
        sum(revenue) as revenue
    from events
    group by activity_window, session_id, user_id

)

select
    activity_window.start as session_start,
    last_event_time as session_end,
    session_id,
    user_id,
    page_views,
    searches,
    add_to_carts,
    purchases,
    revenue,
    event_count,
    purchases > 0 as converted,
    event_count / greatest(active_minutes, 1) > {{ var('bot_events_per_minute') }} as is_bot,
    to_date(activity_window.start) as session_date
from sessions
