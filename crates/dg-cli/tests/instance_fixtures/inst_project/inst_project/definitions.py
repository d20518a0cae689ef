"""The project of the instance tests (crates/dg-cli/tests/instance): assets that write to and read
from the instance, run by our `dg launch` / `dg dev` and by real Dagster on the same home."""

import sys

import dagster as dg

fruits = dg.DynamicPartitionsDefinition(name="fruits")


@dg.asset(tags={"team": "data"})
def upstream(context: dg.AssetExecutionContext):
    print("hello stdout from upstream")
    print("hello stderr from upstream", file=sys.stderr)
    context.add_output_metadata({"rows": 3})
    return [1, 2, 3]


@dg.asset
def downstream(context: dg.AssetExecutionContext, upstream):
    context.log.info(f"downstream got {upstream}")
    return sum(upstream)


@dg.asset(deps=[upstream])
def reads_instance(context: dg.AssetExecutionContext):
    """Reads its upstream's latest materialization from the instance (an earlier run's)."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey("upstream"))
    if event is None:
        raise Exception("context.instance has no materialization of upstream")
    rows = event.asset_materialization.metadata["rows"].value
    context.log.info(f"instance says upstream was materialized by run {event.run_id} with {rows} rows")
    return event.run_id


@dg.asset
def adds_fruits(context: dg.AssetExecutionContext):
    """Adds dynamic partitions through the instance, for a later run to use."""
    context.instance.add_dynamic_partitions("fruits", ["apple", "banana"])
    known = context.instance.get_dynamic_partitions("fruits")
    context.log.info(f"fruits now {sorted(known)}")


@dg.asset(partitions_def=fruits)
def fruit(context: dg.AssetExecutionContext):
    context.log.info(f"fruit {context.partition_key}")
    return context.partition_key


@dg.asset
def sees_own_run(context: dg.AssetExecutionContext):
    """Logs, then reads the same run's events back through the instance (earlier events of the
    run must be stored before the read answers)."""
    context.log.info("marker event before the read")
    records = context.instance.all_logs(context.run_id)
    messages = [r.user_message for r in records]
    if not any("marker event before the read" in m for m in messages):
        raise Exception(f"the run's own earlier events are not stored yet: {messages}")
    context.log.info(f"read back {len(records)} events of this run")


class Many(dg.Config):
    count: int = 1000


@dg.asset
def many_logs(context: dg.AssetExecutionContext, config: Many):
    for i in range(config.count):
        context.log.info(f"log event {i}")


defs = dg.Definitions(assets=[upstream, downstream, reads_instance, adds_fruits, fruit, sees_own_run, many_logs])
