-- Funnel conversion of human sessions, per 10-minute window of the time sessions ended.
-- grain: window_start | window: 10-minute tumbling on session_end | bot sessions excluded
{{
    config(
        materialized='append',
        watermark={'column': 'session_end', 'delay': '10 minutes'},
        unique_key=['window_start'],
        partition_by=['window_date'],
    )
}}

with sessions as (

    select
        session_end,
        page_views,
        add_to_carts,
        purchases
    from {{ ref('session_funnel') }}
    where not is_bot

),

funnel_windows as (

    select
        window(session_end, '10 minutes') as end_window,
        count(*) as sessions,
        count_if(page_views > 0) as sessions_with_view,
        count_if(add_to_carts > 0) as sessions_with_cart,
        count_if(purchases > 0) as sessions_with_purchase,
        count_if(page_views > 0 and add_to_carts > 0) as viewing_sessions_with_cart,
        count_if(add_to_carts > 0 and purchases > 0) as carting_sessions_with_purchase
    from sessions
    group by end_window

)

select
    end_window.start as window_start,
    end_window.end as window_end,
    sessions,
    sessions_with_view,
    sessions_with_cart,
    sessions_with_purchase,
    -- rates are null, not an error, when their denominator is 0
    cast(viewing_sessions_with_cart as double) / nullif(sessions_with_view, 0) as view_to_cart_rate,
    cast(carting_sessions_with_purchase as double) / nullif(sessions_with_cart, 0)
        as cart_to_purchase_rate,
    cast(sessions_with_purchase as double) / nullif(sessions, 0) as conversion_rate,
    to_date(end_window.start) as window_date
from funnel_windows
