"""The Streamlit page: KPIs, revenue, top products, funnel, anomaly alerts, pipeline health.

Run by ``clickstream dashboard`` (``streamlit run`` on this file). Input: the lakehouse paths from
the ``CLICKSTREAM_*`` environment (the command sets them from its flags). Output: the page, read
again every ``REFRESH_SECONDS``; a missing or empty table shows what to run, never a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from clickstream.core.config import resolve_paths
from clickstream.dashboard import figures
from clickstream.dashboard.sources import REFRESH_SECONDS, Snapshot, load_snapshot

NO_GOLD = (
    "run the pipeline: `make demo`, or `clickstream pipeline run` beside `clickstream generate`"
)


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"


def money(amount: float) -> str:
    return f"{amount:,.2f}"


def show_headline(snapshot: Snapshot) -> None:
    kpis = figures.headline(snapshot.gold)
    columns = st.columns(5)
    columns[0].metric("Revenue (last hour)", money(kpis.revenue))
    columns[1].metric("Orders", f"{kpis.orders:,}", help="purchase events, one per product bought")
    columns[2].metric("Conversion rate", percent(kpis.conversion_rate), help="human sessions")
    columns[3].metric("Active sessions", f"{kpis.active_sessions:,}", help="with events this hour")
    columns[4].metric("Bots flagged", f"{kpis.bots_flagged:,}")


def revenue_chart(windows):
    """Bars per window, labelled with the window's UTC start as text (a time axis would show
    the browser's time zone)."""
    import altair as alt

    labelled = windows.assign(window=windows["window_start"].dt.strftime("%H:%M"))
    return (
        alt.Chart(labelled)
        .mark_bar()
        .encode(
            x=alt.X("window:N", sort=None, title="window start (UTC)"),
            y=alt.Y("revenue:Q", title="revenue"),
            tooltip=["window", alt.Tooltip("revenue:Q", format=",.2f"), "orders"],
        )
    )


def show_revenue(snapshot: Snapshot) -> None:
    st.subheader("Revenue per 5-minute window")
    windows = figures.revenue_per_window(snapshot.gold.get("revenue_by_product_5m"))
    if windows.empty:
        st.info(f"No purchases in gold yet: {NO_GOLD}.")
    else:
        st.altair_chart(revenue_chart(windows), width="stretch")
    st.subheader("Top products")
    products = figures.top_products(snapshot.gold.get("revenue_by_product_5m"))
    if products.empty:
        st.info("No product sold in the last hour.")
    else:
        st.dataframe(
            products,
            hide_index=True,
            column_config={"revenue": st.column_config.NumberColumn(format="%.2f")},
        )


def show_funnel(snapshot: Snapshot) -> None:
    st.subheader("Funnel: views → carts → purchases")
    steps = figures.funnel(snapshot.gold.get("funnel_summary_10m"))
    if steps.sessions == 0:
        st.info(
            "No closed human session in the last hour yet (sessions close after 10 idle minutes)."
        )
        return
    columns = st.columns(4)
    columns[0].metric("Sessions", f"{steps.sessions:,}")
    columns[1].metric("Viewed a product", f"{steps.views:,}")
    columns[2].metric(
        "Added to cart",
        f"{steps.carts:,}",
        percent(steps.view_to_cart_rate) + " of viewers",
        delta_color="off",
        delta_arrow="off",
    )
    columns[3].metric(
        "Bought",
        f"{steps.purchases:,}",
        percent(steps.cart_to_purchase_rate) + " of carts",
        delta_color="off",
        delta_arrow="off",
    )
    st.caption(
        f"view → cart {percent(steps.view_to_cart_rate)} · cart → purchase "
        f"{percent(steps.cart_to_purchase_rate)} · conversion {percent(steps.conversion_rate)}"
    )


def show_alerts(snapshot: Snapshot) -> None:
    st.subheader("Anomaly alerts")
    alerts = figures.anomaly_alerts(snapshot.gold.get("bot_anomalies"))
    if alerts.empty:
        st.success("No user over the bot threshold in the last hour.")
        return
    st.warning(
        f"{alerts['user_id'].nunique():,} likely bots: {len(alerts):,} minutes over the threshold."
    )
    st.dataframe(alerts, hide_index=True)


def show_health(snapshot: Snapshot, now: datetime) -> None:
    st.subheader("Pipeline health")
    health = figures.pipeline_health(snapshot.metrics, now)
    columns = st.columns(2)
    quarantined = "n/a" if snapshot.quarantined_rows is None else f"{snapshot.quarantined_rows:,}"
    columns[0].metric("Quarantined rows", quarantined)
    dropped = 0 if health.empty else int(health["rows_dropped_by_watermark"].sum())
    columns[1].metric("Rows dropped by watermark", f"{dropped:,}")
    if health.empty:
        st.info("No streaming metrics yet: the streams write them at every batch.")
    else:
        st.dataframe(health, hide_index=True)


@st.fragment(run_every=REFRESH_SECONDS)
def live_page() -> None:
    """Everything below the title, read again every few seconds."""
    paths, now = resolve_paths(), datetime.now(UTC)
    try:
        snapshot = load_snapshot(paths)
    except Exception as error:  # a table mid-creation or unreadable: say so, try again next time
        st.warning(f"Could not read the lakehouse under {paths.root} yet: {error}")
        return
    if snapshot.until is None:
        st.info(f"No gold data under {paths.gold} yet: {NO_GOLD}.")
    else:
        st.caption(
            f"Last hour of data: {snapshot.since:%Y-%m-%d %H:%M} to {snapshot.until:%H:%M} UTC · "
            f"read at {now:%H:%M:%S} UTC, every {REFRESH_SECONDS} s"
        )
    show_headline(snapshot)
    show_revenue(snapshot)
    show_funnel(snapshot)
    show_alerts(snapshot)
    show_health(snapshot, now)


st.set_page_config(page_title="clickstream", layout="wide")
st.title("Clickstream live dashboard")
live_page()
