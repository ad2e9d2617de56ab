-- Revenue, purchases and units sold per product in 5-minute windows.
-- grain: window_start, product_id | window: 5-minute tumbling on event_time | upserted until closed
{{
    config(
        materialized='upsert',
        watermark={'column': 'event_time', 'delay': '10 minutes'},
        unique_key=['window_start', 'product_id'],
        partition_by=['window_date'],
    )
}}

with purchases as (

    select
        event_time,
        product_id,
        category,
        quantity,
        revenue
    from {{ ref('silver_events') }}
    where is_purchase

),

product_windows as (

    select
        window(event_time, '5 minutes') as event_window,
        product_id,
        -- a product has one category: max() carries it without widening the grain
        max(category) as category,
        sum(revenue) as total_revenue,
        count(*) as purchase_count,
        sum(quantity) as units
    from purchases
    group by event_window, product_id

)

select
    event_window.start as window_start,
    event_window.end as window_end,
    product_id,
    category,
    total_revenue,
    purchase_count,
    units,
    cast(round(total_revenue / purchase_count, 2) as decimal(18, 2)) as avg_order_value,
    to_date(event_window.start) as window_date
from product_windows
