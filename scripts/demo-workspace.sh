#!/usr/bin/env bash
# Creates the demo workspace with our own binaries: `create-dagster workspace`, two projects made
# with `create-dagster project` (environments synced by uv), and assets added with
# `dg scaffold defs` whose bodies are then filled in so that they depend on each other, also
# across the two projects.
#
#   scripts/demo-workspace.sh [DIR]      (default: demo/ at the repository root)
#
# DG_BIN_DIR: folder of the `dg` and `create-dagster` binaries to use (default: build them with
# `cargo build --release` and use target/release). A DIR made by an earlier run is replaced; any
# other existing DIR is left alone and the script stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DIR="${1:-demo}"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac

ensure_uv
if [ -z "${DG_BIN_DIR:-}" ]; then
  log "building dg and create-dagster (release)"
  cargo build --release --quiet -p dg -p create-dagster
  DG_BIN_DIR="${CARGO_TARGET_DIR:-$PWD/target}/release"
fi
DG="$DG_BIN_DIR/dg"
CREATE="$DG_BIN_DIR/create-dagster"

if [ -e "$DIR" ]; then
  if [ -f "$DIR/.dg-demo" ]; then
    log "replacing the earlier demo at $DIR"
    rm -rf "$DIR"
  else
    log "$DIR exists and was not made by this script; pass another folder"
    exit 2
  fi
fi

log "creating the workspace at $DIR"
"$CREATE" workspace "$DIR" --no-uv-sync
touch "$DIR/.dg-demo"
cd "$DIR"

for project in ingest reports; do
  log "creating projects/$project (uv sync installs dagster $DAGSTER_VERSION)"
  "$CREATE" project "projects/$project" --uv-sync
done

# ingest: two raw tables and a cleaned one built from them.
cd projects/ingest
"$DG" scaffold defs dagster.asset raw_orders.py
"$DG" scaffold defs dagster.asset raw_customers.py
"$DG" scaffold defs dagster.asset cleaned_orders.py
"$DG" scaffold defs dagster.asset_check cleaned_orders_check.py --asset-key cleaned_orders
cat > src/ingest/defs/raw_orders.py <<'EOF'
import dagster as dg


@dg.asset(group_name="raw", kinds={"python"})
def raw_orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Orders as they arrive from the shop, one row per order."""
    rows = [{"id": i, "customer": i % 3, "amount": 10.0 * i} for i in range(1, 11)]
    context.log.info(f"Loaded {len(rows)} orders")
    return dg.MaterializeResult(metadata={"rows": len(rows)})
EOF
cat > src/ingest/defs/raw_customers.py <<'EOF'
import dagster as dg


@dg.asset(group_name="raw", kinds={"python"})
def raw_customers(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The customer list, one row per customer."""
    context.log.info("Loaded 3 customers")
    return dg.MaterializeResult(metadata={"rows": 3})
EOF
cat > src/ingest/defs/cleaned_orders.py <<'EOF'
import dagster as dg


@dg.asset(deps=["raw_orders", "raw_customers"], group_name="clean", kinds={"python"})
def cleaned_orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Orders joined with their customers, without test orders."""
    context.log.info("Cleaned 9 orders")
    return dg.MaterializeResult(metadata={"rows": 9})
EOF
cd ../..

# reports: built from `cleaned_orders` of the other project, by asset key.
cd projects/reports
"$DG" scaffold defs dagster.asset daily_revenue.py
"$DG" scaffold defs dagster.asset customer_report.py
"$DG" scaffold defs dagster.schedule nightly_reports.py
cat > src/reports/defs/daily_revenue.py <<'EOF'
import dagster as dg


@dg.asset(deps=["cleaned_orders"], group_name="reports", kinds={"python"})
def daily_revenue(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Revenue per day, from the cleaned orders of the `ingest` project."""
    context.log.info("Revenue: 550.0")
    return dg.MaterializeResult(metadata={"revenue": 550.0})
EOF
cat > src/reports/defs/customer_report.py <<'EOF'
import dagster as dg


@dg.asset(deps=["daily_revenue", "raw_customers"], group_name="reports", kinds={"python"})
def customer_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Revenue per customer."""
    context.log.info("Report for 3 customers")
    return dg.MaterializeResult(metadata={"customers": 3})
EOF
cat > src/reports/defs/nightly_reports.py <<'EOF'
import dagster as dg


@dg.schedule(cron_schedule="0 2 * * *", target=dg.AssetSelection.groups("reports"))
def nightly_reports(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Rebuilds the reports every night at 02:00."""
    return dg.RunRequest()
EOF
cd ../..

log "demo workspace ready at $DIR"
"$DG" list projects
