"""Runs real Dagster on an ephemeral instance and writes to the file named by argv[1] every event
it stored (one line each:
{"row": <serialize_value(entry)>, "event_type", "step_key", "asset_key", "partition",
"metadata_labels"}), then each run's body ({"run": <serialize_value(run)>, "status", ...}).
The assets print to stdout themselves, hence the file."""

import json
import sys

import dagster as dg
from dagster._serdes import serialize_value

parts = dg.StaticPartitionsDefinition(["apple", "banana"])


@dg.asset
def upstream(context):
    print("hello stdout")
    context.log.info("hello from upstream")
    context.log_event(dg.AssetObservation(asset_key="upstream", metadata={"seen": 1}))
    return dg.MaterializeResult(
        metadata={
            "n": 1,
            "nan": float("nan"),
            "inf": float("inf"),
            "text": "é",
            "path": dg.MetadataValue.path("/a/b"),
            "url": dg.MetadataValue.url("https://example.com"),
            "md": dg.MetadataValue.md("# hi"),
            "json": {"k": [1, 2]},
            "flag": True,
            "table": dg.MetadataValue.table_schema(
                dg.TableSchema(columns=[dg.TableColumn("a", "int")])
            ),
        }
    )


@dg.asset(deps=[upstream], key_prefix=["team"])
def downstream(context):
    context.log.warning("careful")


@dg.asset_check(asset=upstream)
def upstream_ok():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"n": 2})


@dg.asset(partitions_def=parts)
def fruit(context):
    return dg.MaterializeResult(metadata={"key": context.partition_key})


@dg.asset
def bad():
    raise ValueError("kaboom")


instance = dg.DagsterInstance.ephemeral()
runs = [
    dg.materialize([upstream, downstream, upstream_ok], instance=instance, tags={"team": "data"}),
    dg.materialize([fruit], instance=instance, partition_key="banana"),
    dg.materialize([bad], instance=instance, raise_on_error=False),
]
instance.report_runless_asset_event(dg.AssetObservation(asset_key="src", metadata={"v": 3}))
out = open(sys.argv[1], "w")

for run_id in [r.run_id for r in runs] + [""]:
    for entry in instance.all_logs(run_id):
        de = entry.dagster_event
        asset_key = None
        partition = None
        labels = None
        if de is not None and (de.is_step_materialization or de.event_type_value == "ASSET_OBSERVATION"):
            ev = (
                de.step_materialization_data.materialization
                if de.is_step_materialization
                else de.event_specific_data.asset_observation
            )
            asset_key, partition, labels = list(ev.asset_key.path), ev.partition, sorted(ev.metadata)
        out.write(
            json.dumps(
                {
                    "row": serialize_value(entry),
                    "event_type": de.event_type_value if de else None,
                    "step_key": entry.step_key,
                    "asset_key": asset_key,
                    "partition": partition,
                    "metadata_labels": labels,
                }
            )
            + "\n"
        )
for r in runs:
    run = instance.get_run_by_id(r.run_id)
    out.write(
        json.dumps(
            {
                "run": serialize_value(run),
                "run_id": run.run_id,
                "job_name": run.job_name,
                "status": run.status.value,
                "tags": dict(run.tags),
            }
        )
        + "\n"
    )
out.close()
