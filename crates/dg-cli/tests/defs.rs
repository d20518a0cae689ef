//! `dg list defs` and `dg check defs` against real Python with real `dagster`: the fixture workspace
//! `tests/fixtures/defs_ws` (a `@definitions` function with every kind of definition, a plain
//! `Definitions` object depending on another location's assets, an autoloaded defs folder), the
//! failing fixture projects of `dg-location`, parity with the real `dg list defs --json`, and the
//! snapshot cache.
//!
//! Every project uses the one shared test environment (`dg_test::python`), so nothing is built per
//! test. With `DG_TEST_DAGSTER_VERSION` set (the compatibility pass of `scripts/test`), the tests
//! run against that `dagster`, and the parity test compares with the real `dg` of that version.

mod scaffold_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dg_test::python::{copy_dir, dagster_version, use_shared_python};
use dg_test::{dg_snapshot, TestContext};
use serde_json::Value;

/// The fixture workspace copied to `<root>/ws`, with extra projects from `dg-location`'s fixtures
/// added to its `dg.toml`; every project (except those in `no_env`) uses the shared environment.
fn workspace(ctx: &TestContext, extra: &[&str], no_env: &[&str]) -> PathBuf {
    let ws = ctx.path("ws");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/defs_ws"),
        &ws,
    );
    let mut toml = std::fs::read_to_string(ws.join("dg.toml")).unwrap();
    for name in extra {
        copy_dir(&location_fixture(name), &ws.join("projects").join(name));
        toml.push_str(&format!(
            "\n[[workspace.projects]]\npath = \"projects/{name}\"\n"
        ));
    }
    std::fs::write(ws.join("dg.toml"), toml).unwrap();
    for entry in std::fs::read_dir(ws.join("projects")).unwrap() {
        let root = entry.unwrap().path();
        let name = root.file_name().unwrap().to_string_lossy().into_owned();
        if !no_env.contains(&name.as_str()) {
            use_shared_python(&root);
        }
    }
    ws
}

fn location_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dg-location/tests/fixtures")
        .join(name)
}

/// A context whose output hides durations and how many system frames a traceback folds (which
/// differs between `dagster` versions).
fn context() -> TestContext {
    TestContext::new()
        .with_filtered_durations()
        .with_filter(r"\[\d+ system frames hidden", "[N system frames hidden")
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut std::process::Command) -> Output {
    let out = cmd.output().expect("run dg");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn list_defs_in_a_project_shows_dagsters_sections() {
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs"]).current_dir(ws.join("projects/shop")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    ┏━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Section      ┃ Definitions                                                                                   ┃
    ┡━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ Assets       │ ┏━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓ │
    │              │ ┃ Key                    ┃ Group   ┃ Deps          ┃ Kinds  ┃ Description                   ┃ │
    │              │ ┡━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩ │
    │              │ │ daily_orders           │ marts   │ orders        │        │                               │ │
    │              │ ├────────────────────────┼─────────┼───────────────┼────────┼───────────────────────────────┤ │
    │              │ │ exchange_rates         │ default │               │        │                               │ │
    │              │ ├────────────────────────┼─────────┼───────────────┼────────┼───────────────────────────────┤ │
    │              │ │ external/supplier_feed │ default │               │        │ delivered by a partner        │ │
    │              │ ├────────────────────────┼─────────┼───────────────┼────────┼───────────────────────────────┤ │
    │              │ │ orders                 │ raw     │               │ duckdb │ Raw orders, one row per order │ │
    │              │ │                        │         │               │ python │                               │ │
    │              │ ├────────────────────────┼─────────┼───────────────┼────────┼───────────────────────────────┤ │
    │              │ │ orders_by_region       │ marts   │ orders        │ python │                               │ │
    │              │ │                        │         │ raw/customers │        │                               │ │
    │              │ ├────────────────────────┼─────────┼───────────────┼────────┼───────────────────────────────┤ │
    │              │ │ raw/customers          │ raw     │               │        │                               │ │
    │              │ └────────────────────────┴─────────┴───────────────┴────────┴───────────────────────────────┘ │
    │ Asset Checks │ ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┓                     │
    │              │ ┃ Key                             ┃ Deps          ┃ Description         ┃                     │
    │              │ ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━┩                     │
    │              │ │ daily_orders:daily_orders_fresh │ daily_orders  │                     │                     │
    │              │ │                                 │ raw/customers │                     │                     │
    │              │ ├─────────────────────────────────┼───────────────┼─────────────────────┤                     │
    │              │ │ orders:orders_positive          │ orders        │ orders are positive │                     │
    │              │ └─────────────────────────────────┴───────────────┴─────────────────────┘                     │
    │ Jobs         │ ┏━━━━━━━━━━━━┳━━━━━━━━━━━━━┓                                                                  │
    │              │ ┃ Key        ┃ Description ┃                                                                  │
    │              │ ┡━━━━━━━━━━━━╇━━━━━━━━━━━━━┩                                                                  │
    │              │ │ op_job     │ an op job   │                                                                  │
    │              │ ├────────────┼─────────────┤                                                                  │
    │              │ │ orders_job │             │                                                                  │
    │              │ └────────────┴─────────────┘                                                                  │
    │ Schedules    │ ┏━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┓                                                           │
    │              │ ┃ Key     ┃ Cron                  ┃                                                           │
    │              │ ┡━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━┩                                                           │
    │              │ │ nightly │ 0 3 * * *             │                                                           │
    │              │ ├─────────┼───────────────────────┤                                                           │
    │              │ │ twice   │ 0 6 * * *, 0 18 * * * │                                                           │
    │              │ └─────────┴───────────────────────┘                                                           │
    │ Sensors      │ ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓                                                       │
    │              │ ┃ Key                                 ┃                                                       │
    │              │ ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩                                                       │
    │              │ │ default_automation_condition_sensor │                                                       │
    │              │ ├─────────────────────────────────────┤                                                       │
    │              │ │ on_failure                          │                                                       │
    │              │ ├─────────────────────────────────────┤                                                       │
    │              │ │ watch_orders                        │                                                       │
    │              │ └─────────────────────────────────────┘                                                       │
    │ Resources    │ ┏━━━━━━━━━━━┓                                                                                 │
    │              │ ┃ Key       ┃                                                                                 │
    │              │ ┡━━━━━━━━━━━┩                                                                                 │
    │              │ │ api_token │                                                                                 │
    │              │ ├───────────┤                                                                                 │
    │              │ │ warehouse │                                                                                 │
    │              │ └───────────┘                                                                                 │
    └──────────────┴───────────────────────────────────────────────────────────────────────────────────────────────┘

    ----- stderr -----
    ");
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--columns", "key,tags,is_executable"])
        .current_dir(ws.join("projects/reports")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    ┏━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Section   ┃ Definitions                              ┃
    ┡━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ Assets    │ ┏━━━━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━┓ │
    │           │ ┃ Key           ┃ Tags ┃ Is executable ┃ │
    │           │ ┡━━━━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━┩ │
    │           │ │ order_summary │      │ True          │ │
    │           │ ├───────────────┼──────┼───────────────┤ │
    │           │ │ orders        │      │ False         │ │
    │           │ ├───────────────┼──────┼───────────────┤ │
    │           │ │ raw/customers │      │ False         │ │
    │           │ ├───────────────┼──────┼───────────────┤ │
    │           │ │ weekly_report │      │ True          │ │
    │           │ └───────────────┴──────┴───────────────┘ │
    │ Schedules │ ┏━━━━━━━━┓                               │
    │           │ ┃ Key    ┃                               │
    │           │ ┡━━━━━━━━┩                               │
    │           │ │ weekly │                               │
    │           │ └────────┘                               │
    └───────────┴──────────────────────────────────────────┘

    ----- stderr -----
    ");
}

#[test]
fn list_defs_from_the_workspace_root_shows_every_location() {
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--columns", "key,deps,group"]).current_dir(&ws), @"
    success: true
    exit_code: 0
    ----- stdout -----
    ┏━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Section      ┃ Definitions                                                       ┃
    ┡━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ Assets       │ ┏━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓ │
    │              │ ┃ Key                    ┃ Location ┃ Deps          ┃ Group     ┃ │
    │              │ ┡━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩ │
    │              │ │ daily_orders           │ shop     │ orders        │ marts     │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ exchange_rates         │ shop     │               │ default   │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ external/supplier_feed │ shop     │               │ default   │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ order_summary          │ reports  │ orders        │ reporting │ │
    │              │ │                        │          │ raw/customers │           │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ orders                 │ reports  │               │ default   │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ orders                 │ shop     │               │ raw       │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ orders_by_region       │ shop     │ orders        │ marts     │ │
    │              │ │                        │          │ raw/customers │           │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ plugin_events          │ plugins  │               │ default   │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ plugin_summary         │ plugins  │ plugin_events │ default   │ │
    │              │ │                        │          │ weekly_report │           │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ raw/customers          │ shop     │               │ raw       │ │
    │              │ ├────────────────────────┼──────────┼───────────────┼───────────┤ │
    │              │ │ weekly_report          │ reports  │ order_summary │ reporting │ │
    │              │ └────────────────────────┴──────────┴───────────────┴───────────┘ │
    │ Asset Checks │ ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━┓    │
    │              │ ┃ Key                             ┃ Location ┃ Deps          ┃    │
    │              │ ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━┩    │
    │              │ │ daily_orders:daily_orders_fresh │ shop     │ daily_orders  │    │
    │              │ │                                 │          │ raw/customers │    │
    │              │ ├─────────────────────────────────┼──────────┼───────────────┤    │
    │              │ │ orders:orders_positive          │ shop     │ orders        │    │
    │              │ └─────────────────────────────────┴──────────┴───────────────┘    │
    │ Jobs         │ ┏━━━━━━━━━━━━┳━━━━━━━━━━┓                                         │
    │              │ ┃ Key        ┃ Location ┃                                         │
    │              │ ┡━━━━━━━━━━━━╇━━━━━━━━━━┩                                         │
    │              │ │ ingest_job │ plugins  │                                         │
    │              │ ├────────────┼──────────┤                                         │
    │              │ │ op_job     │ shop     │                                         │
    │              │ ├────────────┼──────────┤                                         │
    │              │ │ orders_job │ shop     │                                         │
    │              │ └────────────┴──────────┘                                         │
    │ Schedules    │ ┏━━━━━━━━━┳━━━━━━━━━━┓                                            │
    │              │ ┃ Key     ┃ Location ┃                                            │
    │              │ ┡━━━━━━━━━╇━━━━━━━━━━┩                                            │
    │              │ │ nightly │ shop     │                                            │
    │              │ ├─────────┼──────────┤                                            │
    │              │ │ twice   │ shop     │                                            │
    │              │ ├─────────┼──────────┤                                            │
    │              │ │ weekly  │ reports  │                                            │
    │              │ └─────────┴──────────┘                                            │
    │ Sensors      │ ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┓                │
    │              │ ┃ Key                                 ┃ Location ┃                │
    │              │ ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━┩                │
    │              │ │ default_automation_condition_sensor │ shop     │                │
    │              │ ├─────────────────────────────────────┼──────────┤                │
    │              │ │ on_failure                          │ shop     │                │
    │              │ ├─────────────────────────────────────┼──────────┤                │
    │              │ │ plugin_sensor                       │ plugins  │                │
    │              │ ├─────────────────────────────────────┼──────────┤                │
    │              │ │ watch_orders                        │ shop     │                │
    │              │ └─────────────────────────────────────┴──────────┘                │
    │ Resources    │ ┏━━━━━━━━━━━┳━━━━━━━━━━┓                                          │
    │              │ ┃ Key       ┃ Location ┃                                          │
    │              │ ┡━━━━━━━━━━━╇━━━━━━━━━━┩                                          │
    │              │ │ api_token │ shop     │                                          │
    │              │ ├───────────┼──────────┤                                          │
    │              │ │ warehouse │ shop     │                                          │
    │              │ └───────────┴──────────┘                                          │
    └──────────────┴───────────────────────────────────────────────────────────────────┘

    ----- stderr -----
    ");
    let out = run(ctx.dg().args(["list", "defs", "--json"]).current_dir(&ws));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let assets: Vec<(String, String, bool)> = json["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["asset_key"].as_str().unwrap().to_string(),
                a["code_location"].as_str().unwrap().to_string(),
                a["is_executable"].as_bool().unwrap(),
            )
        })
        .collect();
    // `orders` twice: defined in `shop`, declared as a spec in `reports`; the stub `plugins` gets
    // for its dependency on `weekly_report` is not listed.
    let orders: Vec<_> = assets.iter().filter(|a| a.0 == "orders").collect();
    assert_eq!(
        orders,
        [
            &("orders".to_string(), "reports".to_string(), false),
            &("orders".to_string(), "shop".to_string(), true)
        ]
    );
    let weekly: Vec<_> = assets.iter().filter(|a| a.0 == "weekly_report").collect();
    assert_eq!(
        weekly,
        [&("weekly_report".to_string(), "reports".to_string(), true)]
    );
}

#[test]
fn list_defs_selects_assets_across_locations() {
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--assets", "+key:plugin_summary", "--columns", "deps"])
        .current_dir(&ws), @"
    success: true
    exit_code: 0
    ----- stdout -----
    ┏━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Section      ┃ Definitions                                    ┃
    ┡━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ Assets       │ ┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━┓  │
    │              │ ┃ Key            ┃ Location ┃ Deps          ┃  │
    │              │ ┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━┩  │
    │              │ │ order_summary  │ reports  │ orders        │  │
    │              │ │                │          │ raw/customers │  │
    │              │ ├────────────────┼──────────┼───────────────┤  │
    │              │ │ orders         │ reports  │               │  │
    │              │ ├────────────────┼──────────┼───────────────┤  │
    │              │ │ orders         │ shop     │               │  │
    │              │ ├────────────────┼──────────┼───────────────┤  │
    │              │ │ plugin_events  │ plugins  │               │  │
    │              │ ├────────────────┼──────────┼───────────────┤  │
    │              │ │ plugin_summary │ plugins  │ plugin_events │  │
    │              │ │                │          │ weekly_report │  │
    │              │ ├────────────────┼──────────┼───────────────┤  │
    │              │ │ raw/customers  │ shop     │               │  │
    │              │ ├────────────────┼──────────┼───────────────┤  │
    │              │ │ weekly_report  │ reports  │ order_summary │  │
    │              │ └────────────────┴──────────┴───────────────┘  │
    │ Asset Checks │ ┏━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━┓ │
    │              │ ┃ Key                    ┃ Location ┃ Deps   ┃ │
    │              │ ┡━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━┩ │
    │              │ │ orders:orders_positive │ shop     │ orders │ │
    │              │ └────────────────────────┴──────────┴────────┘ │
    └──────────────┴────────────────────────────────────────────────┘

    ----- stderr -----
    ");
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--assets", "group:raw", "--json"])
        .current_dir(ws.join("projects/shop")), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    {
        "assets": [
            {
                "asset_key": "orders",
                "asset_key_parts": [
                    "orders"
                ],
                "description": "Raw orders, one row per order",
                "group_name": "raw",
                "kinds": [
                    "duckdb",
                    "python"
                ],
                "dependency_keys": [],
                "owners": [
                    {
                        "team": "data"
                    },
                    {
                        "email": "ana@example.com"
                    }
                ],
                "tags": [
                    {
                        "key": "team",
                        "value": "sales"
                    },
                    {
                        "key": "tier",
                        "value": "gold"
                    }
                ],
                "is_executable": true,
                "source": "shop/definitions.py:9"
            },
            {
                "asset_key": "raw/customers",
                "asset_key_parts": [
                    "raw",
                    "customers"
                ],
                "group_name": "raw",
                "kinds": [],
                "dependency_keys": [],
                "owners": [],
                "is_executable": true,
                "source": "shop/definitions.py:22"
            }
        ],
        "asset_checks": [
            {
                "key": "orders:orders_positive",
                "asset_key": "orders",
                "name": "orders_positive",
                "additional_deps": [
                    "orders"
                ],
                "description": "orders are positive"
            }
        ],
        "jobs": [],
        "resources": [],
        "schedules": [],
        "sensors": []
    }

    ----- stderr -----
    "#);
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--assets", "key:(orders"]).current_dir(&ws), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Invalid `--assets` selection: invalid asset selection at column 5: expected a key pattern (a name, a name with `*`, or a quoted string), found `(`
      key:(orders
          ^
    hint: write a selection like `key:raw/orders`, `tag:team=data`, `group:ingest+`, `+key:"my-asset" and not kind:dbt`; quote values with other characters: `owner:"me@example.com"`
    "#);
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--assets", "ordrs"]).current_dir(&ws), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Invalid `--assets` selection: no code location defines the asset key `ordrs`
    hint: for `ordrs` did you mean `orders`?
    ");
}

#[test]
fn list_defs_usage_errors() {
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    let shop = ws.join("projects/shop");
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--json", "--columns", "key"]).current_dir(&shop), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Cannot use `--columns` with `--json`
    hint: Leave out `--columns`: the JSON has every field.
    ");
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--columns", "colour"]).current_dir(&shop), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Unknown column `colour` in `--columns`
    hint: Available columns: `key`, `group`, `deps`, `kinds`, `description`, `tags`, `cron`, `is_executable`.
    ");
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--path", "pyproject.toml"]).current_dir(&shop), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `--path` `[TEMP]/work/ws/projects/shop/pyproject.toml` is not inside the defs folder of a project
    hint: Pass a file or folder under a project's defs folder (`src/<package>/defs` by default).
    ");
}

#[test]
fn list_defs_path_loads_part_of_the_defs_folder() {
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--path", "plugins/defs/ingest"])
        .current_dir(ws.join("projects/plugins")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    ┏━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Section ┃ Definitions                  ┃
    ┡━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ Jobs    │ ┏━━━━━━━━━━━━┳━━━━━━━━━━━━━┓ │
    │         │ ┃ Key        ┃ Description ┃ │
    │         │ ┡━━━━━━━━━━━━╇━━━━━━━━━━━━━┩ │
    │         │ │ ingest_job │             │ │
    │         │ └────────────┴─────────────┘ │
    │ Sensors │ ┏━━━━━━━━━━━━━━━┓            │
    │         │ ┃ Key           ┃            │
    │         │ ┡━━━━━━━━━━━━━━━┩            │
    │         │ │ plugin_sensor │            │
    │         │ └───────────────┘            │
    └─────────┴──────────────────────────────┘

    ----- stderr -----
    ");
}

/// The parity test: Dagster's own `dg list defs --json` and ours, on the same projects, agree on
/// every asset (key, deps, group, kinds, owners, tags, automation condition, source), asset
/// check, job, schedule (with cron), sensor and resource. Only the order of lists Dagster does not
/// sort (checks, jobs, resources) may differ.
///
/// The real `dg` is the one of the `dagster` version the projects load with: the pinned one, or
/// in the compatibility pass (`DG_TEST_DAGSTER_VERSION`) that older release, so the parity is
/// checked against both and never skipped.
#[test]
fn list_defs_json_equals_real_dg() {
    let real = real_dg();
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    for project in ["shop", "reports", "plugins"] {
        let dir = ws.join("projects").join(project);
        let theirs = same_json_as_real_dg(&ctx, &real, &dir, &[]);
        assert!(
            theirs["assets"].as_array().unwrap().len() >= 3,
            "{project} has assets"
        );
    }
}

/// `--path` on a file lists every kind of definition in it (sensors and schedules included, as
/// Dagster's component tree builds it), on a folder what it autoloads; both equal the real `dg
/// list defs --path --json`.
#[test]
fn list_defs_path_json_equals_real_dg() {
    let real = real_dg();
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    let dir = ws.join("projects/plugins");
    ctx.write(
        dir.join("plugins/defs/ingest/schedules.py"),
        "import dagster as dg\n\n\n@dg.asset\ndef ingest_marker():\n    return 1\n\n\n\
         nightly_ingest = dg.ScheduleDefinition(\n    name=\"nightly_ingest\", \
         target=\"key:ingest_marker\", cron_schedule=\"0 2 * * *\"\n)\n\n\n\
         @dg.sensor(target=\"key:ingest_marker\")\ndef marker_sensor(context):\n    return None\n",
    );
    let names = |doc: &Value, section: &str| -> Vec<String> {
        doc[section]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let jobs = same_json_as_real_dg(
        &ctx,
        &real,
        &dir,
        &["--path", "plugins/defs/ingest/jobs.py"],
    );
    assert_eq!(names(&jobs, "sensors"), ["plugin_sensor"]);
    assert_eq!(names(&jobs, "jobs"), ["ingest_job"]);
    let schedules = same_json_as_real_dg(
        &ctx,
        &real,
        &dir,
        &["--path", "plugins/defs/ingest/schedules.py"],
    );
    assert_eq!(names(&schedules, "schedules"), ["nightly_ingest"]);
    assert_eq!(names(&schedules, "sensors"), ["marker_sensor"]);
    assert_eq!(schedules["assets"].as_array().unwrap().len(), 1);
    let folder = same_json_as_real_dg(&ctx, &real, &dir, &["--path", "plugins/defs/ingest"]);
    assert_eq!(
        names(&folder, "sensors"),
        ["marker_sensor", "plugin_sensor"]
    );
    same_json_as_real_dg(&ctx, &real, &dir, &["--path", "plugins/defs/assets.py"]);
}

/// The real `dg` of the `dagster` version the projects load with: the pinned one, or in the
/// compatibility pass (`DG_TEST_DAGSTER_VERSION`) that older release, so parity is checked
/// against both and never skipped.
fn real_dg() -> PathBuf {
    let version = dagster_version();
    let dg = scaffold_common::real_dagster_bin_at(&version).join("dg");
    let reported = run(std::process::Command::new(&dg).arg("--version"));
    assert!(
        reported.stdout.contains(&version),
        "the real dg is not {version}: {}{}",
        reported.stdout,
        reported.stderr
    );
    dg
}

/// Runs `dg list defs --json <args>` in `dir` with the real `dg` and ours, asserts that both
/// succeed with the same document (lists sorted), and returns it.
fn same_json_as_real_dg(ctx: &TestContext, real: &Path, dir: &Path, args: &[&str]) -> Value {
    // The real `dg` imports the project package for `--path`; the fixtures are not installed in
    // the shared environment, so their folder goes on the path (what an editable install does).
    let theirs = run(ctx
        .command(real)
        .args(["list", "defs", "--json"])
        .args(args)
        .env("PYTHONPATH", dir)
        .current_dir(dir));
    assert_eq!(
        theirs.code, 0,
        "real dg failed in {dir:?} {args:?}: {}",
        theirs.stderr
    );
    let ours = run(ctx
        .dg()
        .args(["list", "defs", "--json"])
        .args(args)
        .current_dir(dir));
    assert_eq!(
        ours.code, 0,
        "dg failed in {dir:?} {args:?}: {}",
        ours.stderr
    );
    let (theirs, ours) = (sorted(&theirs.stdout), sorted(&ours.stdout));
    assert_eq!(
        theirs,
        ours,
        "`dg list defs --json {args:?}` differs in {dir:?}:\nreal: {}\nours: {}",
        serde_json::to_string_pretty(&theirs).unwrap(),
        serde_json::to_string_pretty(&ours).unwrap()
    );
    theirs
}

/// The document with every list of objects sorted by its key or name.
fn sorted(text: &str) -> Value {
    let mut doc: Value = serde_json::from_str(text).expect("valid JSON");
    for (_, items) in doc.as_object_mut().unwrap().iter_mut() {
        items.as_array_mut().unwrap().sort_by_key(|item| {
            ["asset_key", "key", "name"]
                .iter()
                .find_map(|k| item[k].as_str().map(str::to_string))
                .unwrap_or_default()
        });
    }
    doc
}

#[test]
fn check_defs_passes_and_second_run_uses_the_cache() {
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    let first = run(ctx.dg().args(["check", "defs"]).current_dir(&ws));
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.stdout, "All definitions loaded successfully.\n");
    assert!(!first.stderr.contains("(cached)"), "{}", first.stderr);
    for name in ["shop", "reports", "plugins"] {
        assert!(
            first.stderr.contains(&format!(
                "ok Validation successful for code location `{name}`"
            )),
            "{}",
            first.stderr
        );
    }
    // Nothing changed: no Python at all, every snapshot from the cache (lines in completion order).
    let cached = run(ctx.dg().args(["check", "defs"]).current_dir(&ws));
    assert_eq!(cached.code, 0, "{}", cached.stderr);
    let mut lines: Vec<&str> = cached.stderr.lines().collect();
    lines.sort();
    insta::assert_snapshot!(lines.join("\n"), @"
    ok Validation successful for code location `plugins` (projects/plugins): 2 assets, 1 job, 1 sensor (cached)
    ok Validation successful for code location `reports` (projects/reports): 3 assets, 1 schedule (cached)
    ok Validation successful for code location `shop` (projects/shop): 6 assets, 2 asset checks, 2 jobs, 2 schedules, 3 sensors, 2 resources (cached)
    ");
    // A changed source file invalidates that location only; `--no-cache` reloads everything.
    let file = ws.join("projects/plugins/plugins/defs/assets.py");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{text}\n\n@dg.asset\ndef added():\n    return 3\n"),
    )
    .unwrap();
    let changed = run(ctx.dg().args(["check", "defs"]).current_dir(&ws));
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert!(
        changed
            .stderr
            .contains("`plugins` (projects/plugins): 3 assets, 1 job, 1 sensor (")
            && !changed.stderr.contains("1 sensor (cached)"),
        "{}",
        changed.stderr
    );
    assert_eq!(
        changed.stderr.matches("(cached)").count(),
        2,
        "{}",
        changed.stderr
    );
    let fresh = run(ctx
        .dg()
        .args(["check", "defs", "--no-cache"])
        .current_dir(&ws));
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    assert!(!fresh.stderr.contains("(cached)"), "{}", fresh.stderr);
    // `dg list defs` uses the snapshots `dg check defs` stored (and the other way round).
    let listed = run(ctx
        .dg()
        .args(["list", "defs", "--verbose"])
        .current_dir(&ws));
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(
        listed
            .stderr
            .matches(": snapshot from the cache, no Python started")
            .count(),
        3,
        "{}",
        listed.stderr
    );
}

/// Every kind of failure at once: each is reported with its project, file and line, the others
/// are still checked, and the command exits 1.
#[test]
fn check_defs_reports_every_failure() {
    let ctx = context();
    let failing = [
        "syntax_error",
        "import_error",
        "missing_dep",
        "raises",
        "hangs",
        "crashes",
        "defs_object",
    ];
    let ws = workspace(
        &ctx,
        &[&failing[..], &["prints"]].concat(),
        &["defs_object"],
    );
    let out = run(ctx
        .dg()
        .args(["check", "defs", "--no-sync", "--timeout", "60"])
        .current_dir(&ws));
    let err = &out.stderr;
    assert_eq!(out.code, 1, "{err}");
    assert_eq!(out.stdout, "", "user code's prints never reach stdout");
    for ok in ["shop", "reports", "plugins", "prints"] {
        assert!(
            err.contains(&format!("Validation successful for code location `{ok}`")),
            "{ok}: {err}"
        );
    }
    let expect = [
        (
            "syntax_error",
            "SyntaxError: invalid syntax",
            "syntax_error/definitions.py:5`",
        ),
        (
            "import_error",
            "ImportError: cannot import name 'does_not_exist'",
            "import_error/definitions.py:3`",
        ),
        (
            "missing_dep",
            "No module named 'pandas_is_not_installed_here'",
            "missing_dep/definitions.py:2`",
        ),
        (
            "raises",
            "RuntimeError: config value `region` is missing",
            "raises/definitions.py:5`",
        ),
    ];
    for (name, what, at) in expect {
        let block = failure_block(err, name);
        assert!(
            block.contains(what) && block.contains(at),
            "{name}: {block}"
        );
        assert!(
            block.lines().count() <= 20,
            "{name}: a failure is short by default:\n{block}"
        );
    }
    assert!(failure_block(err, "missing_dep").contains("uv add pandas_is_not_installed_here"));
    assert!(
        err.contains("code location `hangs` did not load within 60 seconds"),
        "{err}"
    );
    assert!(
        err.contains("code location `crashes`: the Python process exited unexpectedly"),
        "{err}"
    );
    assert!(
        err.contains("`defs_object`") && err.contains("uv sync"),
        "the missing environment names the project and the fix: {err}"
    );
    assert!(
        err.contains("error: Validation failed: 7 of 11 code locations failed to load"),
        "{err}"
    );
}

/// The lines from `error: code location `name`` to its `hint:` line.
fn failure_block(stderr: &str, name: &str) -> String {
    let start = stderr
        .find(&format!("error: code location `{name}`"))
        .unwrap_or_else(|| panic!("no error for `{name}` in:\n{stderr}"));
    let rest = &stderr[start..];
    let end = rest.find("\nhint:").map_or(rest.len(), |i| {
        i + 1 + rest[i + 1..].find('\n').unwrap_or(rest.len() - i - 1)
    });
    rest[..end].to_string()
}

#[test]
fn check_defs_failure_is_short_and_complete_with_verbose() {
    let ctx = context();
    let root = ctx.path("missing_dep");
    copy_dir(&location_fixture("missing_dep"), &root);
    use_shared_python(&root);
    dg_snapshot!(ctx, ctx.dg().args(["check", "defs"]).current_dir(&root), @r#"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    error: code location `missing_dep` failed to load: ModuleNotFoundError: No module named 'pandas_is_not_installed_here' (at `[TEMP]/work/missing_dep/missing_dep/definitions.py:2`)
      Traceback (most recent call last):
        [N system frames hidden, run with `--verbose` to see the full stack trace]
        File "[TEMP]/work/missing_dep/missing_dep/definitions.py", line 2, in <module>
          import pandas_is_not_installed_here
      ModuleNotFoundError: No module named 'pandas_is_not_installed_here'
    hint: If `pandas_is_not_installed_here` is a package, add it to the dependencies of the project (`uv add pandas_is_not_installed_here` in `[TEMP]/work/missing_dep`); if it is one of your modules, check its name at `[TEMP]/work/missing_dep/missing_dep/definitions.py:2`.
    error: Validation failed: code location `missing_dep` did not load
    hint: Fix the errors above and run `dg check defs` again.
    "#);
    let verbose = run(ctx
        .dg()
        .args(["check", "defs", "--verbose"])
        .current_dir(&root));
    assert_eq!(verbose.code, 1);
    assert!(
        verbose.stderr.contains("<frozen importlib._bootstrap>")
            && !verbose.stderr.contains("system frames hidden"),
        "--verbose shows every frame: {}",
        verbose.stderr
    );
}

#[test]
fn check_defs_missing_environment_names_project_and_fix() {
    let ctx = context();
    let root = ctx.path("defs_object");
    copy_dir(&location_fixture("defs_object"), &root);
    dg_snapshot!(ctx, ctx.dg().args(["check", "defs", "--no-sync"]).current_dir(&root), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: project `defs_object`: Python interpreter `[TEMP]/work/defs_object/.venv/bin/python` does not exist (from `[TEMP]/work/defs_object/.venv`)
    hint: Run `uv sync` in `[TEMP]/work/defs_object` to create it, or drop `--no-sync`.
    error: Validation failed: code location `defs_object` did not load
    hint: Fix the errors above and run `dg check defs` again.
    ");
}

/// Two locations defining the same key as executable is a warning naming both, and the check
/// passes (exit 0), as the real `dg check defs` does; `reports`'s spec of `orders` is not part of
/// it. (Launching `orders` is where it is an error: `tests/launch.rs`.)
#[test]
fn check_defs_warns_about_an_asset_defined_in_two_locations() {
    let ctx = context();
    let ws = workspace(&ctx, &[], &[]);
    let dup = ws.join("projects/dup");
    ctx.write(
        dup.join("pyproject.toml"),
        "[project]\nname = \"dup\"\nversion = \"0.1.0\"\n\n[tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"dup\"\n",
    );
    ctx.write(dup.join("dup/__init__.py"), "");
    ctx.write(
        dup.join("dup/definitions.py"),
        "import dagster as dg\n\n\n@dg.asset\ndef orders():\n    return 0\n\n\ndefs = dg.Definitions(assets=[orders])\n",
    );
    use_shared_python(&dup);
    let toml = std::fs::read_to_string(ws.join("dg.toml")).unwrap();
    std::fs::write(
        ws.join("dg.toml"),
        format!("{toml}\n[[workspace.projects]]\npath = \"projects/dup\"\n"),
    )
    .unwrap();
    let out = run(ctx.dg().args(["check", "defs", "--json"]).current_dir(&ws));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "warning: asset `orders` is defined as executable in 2 code locations: `dup` and `shop`\n\
             hint: `dg launch` of `orders` needs `--location`."
        ),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("warning: ").count(), 1, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["success"], true);
    assert_eq!(
        json["conflicts"],
        serde_json::json!([{"asset_key": "orders", "code_locations": ["dup", "shop"]}])
    );
    assert!(json["locations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["status"] == "ok"));
    // The text form ends as a passing check does; the JSON log format says WARNING.
    let out = run(ctx.dg().args(["check", "defs"]).current_dir(&ws));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "All definitions loaded successfully.\n");
    let out = run(ctx
        .dg()
        .args(["check", "defs", "--log-format", "json"])
        .current_dir(&ws));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let warning: Value = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["level"] == "WARNING")
        .expect(&out.stderr);
    assert_eq!(
        warning["message"],
        "asset `orders` is defined as executable in 2 code locations: `dup` and `shop`"
    );
}

#[test]
fn check_defs_json_log_format() {
    let ctx = context();
    let root = ctx.path("raises");
    copy_dir(&location_fixture("raises"), &root);
    use_shared_python(&root);
    let out = run(ctx
        .dg()
        .args(["check", "defs", "--log-format", "json"])
        .current_dir(&root));
    assert_eq!(out.code, 1);
    let first: Value = serde_json::from_str(out.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(first["level"], "ERROR");
    assert_eq!(first["code_location"], "raises");
    assert!(first["details"]
        .as_str()
        .unwrap()
        .contains("RuntimeError: config value `region` is missing"));
}

/// A project made by our `create-dagster` (the `src` layout) loads without being installed in the
/// environment it runs with: `src/` goes first on `sys.path`, as in Dagster's code servers.
#[test]
fn list_defs_src_layout_project_without_install() {
    let ctx = context();
    let made = run(ctx
        .create_dagster()
        .args(["project", "tidy-shop", "--no-uv-sync"]));
    assert_eq!(made.code, 0, "{}", made.stderr);
    let root = ctx.path("tidy-shop");
    let scaffolded = run(ctx
        .dg()
        .args(["scaffold", "defs", "dagster.asset", "stock.py"])
        .current_dir(&root));
    assert_eq!(scaffolded.code, 0, "{}", scaffolded.stderr);
    use_shared_python(&root);
    dg_snapshot!(ctx, ctx.dg().args(["list", "defs", "--columns", "key,group"]).current_dir(&root), @"
    success: true
    exit_code: 0
    ----- stdout -----
    ┏━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Section ┃ Definitions         ┃
    ┡━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━┩
    │ Assets  │ ┏━━━━━━━┳━━━━━━━━━┓ │
    │         │ ┃ Key   ┃ Group   ┃ │
    │         │ ┡━━━━━━━╇━━━━━━━━━┩ │
    │         │ │ stock │ default │ │
    │         │ └───────┴─────────┘ │
    └─────────┴─────────────────────┘

    ----- stderr -----
    ");
}

/// A workspace where some projects cannot even be read (unknown key, missing folder, a
/// pyproject that is not UTF-8, an empty folder) next to healthy projects without an
/// environment: each failure is counted once and named, the unreadable ones by the path listed
/// in `dg.toml` with the file and line at fault.
#[test]
fn defs_commands_name_every_broken_project_once() {
    let ctx = context();
    let ws = ctx.path("broken_ws");
    let mut toml = String::from("directory_type = \"workspace\"\n\n[workspace]\n");
    for name in ["a", "b", "c", "unknown_key", "missing", "not_utf8", "empty"] {
        toml.push_str(&format!(
            "\n[[workspace.projects]]\npath = \"projects/{name}\"\n"
        ));
    }
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("dg.toml"), toml).unwrap();
    for name in ["a", "b", "c", "unknown_key"] {
        let package = ws.join("projects").join(name).join("src").join(name);
        std::fs::create_dir_all(package.join("defs")).unwrap();
        std::fs::write(package.join("__init__.py"), "").unwrap();
        std::fs::write(package.join("defs/__init__.py"), "").unwrap();
        let extra = if name == "unknown_key" {
            "bogus_key = 1\n"
        } else {
            ""
        };
        std::fs::write(
            ws.join("projects").join(name).join("pyproject.toml"),
            format!(
                "[project]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[tool.dg]\n\
                 directory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"{name}\"\n{extra}"
            ),
        )
        .unwrap();
    }
    std::fs::create_dir_all(ws.join("projects/not_utf8")).unwrap();
    std::fs::write(
        ws.join("projects/not_utf8/pyproject.toml"),
        b"[project]\nname = \"caf\xe9\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("projects/empty")).unwrap();

    let broken = [
        "`projects/unknown_key` at ",
        "`projects/missing` at ",
        "`projects/not_utf8` at ",
        "`projects/empty` at ",
    ];
    let at = [
        "projects/unknown_key/pyproject.toml:10:1",
        "dg.toml:18:8",
        "projects/not_utf8/pyproject.toml:2:",
        "dg.toml:24:8",
    ];
    let list = run(ctx
        .dg()
        .args(["list", "defs", "--no-sync"])
        .current_dir(&ws));
    let summary = list
        .stderr
        .lines()
        .find(|l| l.contains("code locations failed to load"))
        .unwrap_or_else(|| panic!("no summary: {}", list.stderr))
        .to_string();
    assert!(
        summary.starts_with("error: 7 code locations failed to load: `a`, `b`, `c`, "),
        "{summary}"
    );
    let check = run(ctx
        .dg()
        .args(["check", "defs", "--no-sync"])
        .current_dir(&ws));
    let check_summary = check
        .stderr
        .lines()
        .find(|l| l.starts_with("error: Validation failed"))
        .unwrap_or_else(|| panic!("no summary: {}", check.stderr))
        .to_string();
    assert!(
        check_summary.starts_with(
            "error: Validation failed: 7 of 7 code locations failed to load: `a`, `b`, `c`, "
        ),
        "{check_summary}"
    );
    for (out, line) in [(&list, &summary), (&check, &check_summary)] {
        assert_eq!(out.code, 2, "{}", out.stderr);
        for (name, at) in broken.iter().zip(at) {
            assert_eq!(line.matches(name).count(), 1, "{name} once: {line}");
            let after = &line[line.find(name).unwrap() + name.len()..];
            let file = ws.join(at).display().to_string();
            assert!(after.starts_with(&file), "{name} names {at}: {line}");
        }
    }
}

/// Ctrl-C while `dg check defs` syncs a project's missing environment ends `uv` too (it runs in its
/// own process group, so it used to keep syncing in the background after dg died).
#[test]
fn ctrl_c_during_automatic_uv_sync_ends_uv() {
    ctrl_c_during_sync_leaves_no_process(&["check", "defs"]);
}

/// The same for `dg launch`, which handles Ctrl-C itself (to cancel runs cleanly).
#[test]
fn ctrl_c_during_automatic_uv_sync_of_dg_launch_ends_uv() {
    ctrl_c_during_sync_leaves_no_process(&["launch", "--assets", "*"]);
}

/// Runs `dg <args>` in a project without an environment, presses Ctrl-C while uv syncs it, and
/// checks that dg fails and leaves no process behind.
fn ctrl_c_during_sync_leaves_no_process(args: &[&str]) {
    use dg_config::env;
    use std::os::unix::process::CommandExt;
    let ctx = context();
    let root = ctx.path("needs_sync");
    std::fs::create_dir_all(root.join("src/needs_sync/defs")).unwrap();
    std::fs::write(root.join("src/needs_sync/__init__.py"), "").unwrap();
    std::fs::write(root.join("src/needs_sync/defs/__init__.py"), "").unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"needs_sync\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\n\
         dependencies = [\"dagster\"]\n\n[tool.dg]\ndirectory_type = \"project\"\n\n\
         [tool.dg.project]\nroot_module = \"needs_sync\"\n",
    )
    .unwrap();
    // `uv sync` waits on this index until the test presses Ctrl-C.
    let index = dg_test::procs::SilentIndex::new();
    let child = ctx
        .dg()
        .args(args)
        .current_dir(&root)
        .env(env::UV_DEFAULT_INDEX, &index.url)
        .env(env::UV_CACHE_DIR, ctx.cache_dir.join("empty-uv-cache"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own process group, as a terminal's foreground job: Ctrl-C goes to the whole group.
        .process_group(0)
        .spawn()
        .unwrap();
    let out = index.interrupt_and_check(child, "dg");
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The parity workspace of `dg-selection` (`tests/fixtures/parity_defs`: two locations with jobs,
/// a schedule and a sensor), loaded by our agent: the selection graph built from the snapshots
/// has, for every asset, the jobs, sensors and schedules Dagster's workspace graph has, and every
/// selection `fixtures/parity.json` recorded from real Dagster (`job:`, `sensor:` and `schedule:`
/// included) selects the same keys over it. `dg list defs --assets` at the root agrees.
#[test]
fn selection_attributes_from_snapshots_equal_dagsters() {
    let ctx = context();
    let ws = ctx.path("parity");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dg-selection/tests/fixtures");
    let mut toml = "directory_type = \"workspace\"\n\n[workspace]\n".to_owned();
    let mut specs = Vec::new();
    for name in ["loc_a", "loc_b"] {
        let root = ws.join("projects").join(name);
        ctx.write(
            root.join("pyproject.toml"),
            format!(
                "[project]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[tool.dg]\n\
                 directory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"{name}\"\n"
            ),
        );
        ctx.write(root.join(name).join("__init__.py"), "");
        let source = std::fs::read_to_string(fixtures.join(format!("parity_defs/{name}.py")));
        ctx.write(root.join(name).join("definitions.py"), source.unwrap());
        use_shared_python(&root);
        toml.push_str(&format!(
            "\n[[workspace.projects]]\npath = \"projects/{name}\"\n"
        ));
        specs.push(dg_location::LocationSpec::new(name, &root, name));
    }
    ctx.write(ws.join("dg.toml"), toml);
    let parity: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("parity.json")).unwrap())
            .unwrap();

    let options = dg_location::LoadOptions {
        cache_mode: dg_location::CacheMode::Off,
        ..dg_location::LoadOptions::default()
    };
    let loaded: Vec<(String, dg_location::DefinitionsSnapshot)> =
        dg_location::load_all(specs, options)
            .map(|(spec, result)| (spec.name, result.expect("loads").snapshot))
            .collect();
    let graph = dg_workspace::Workspace::new(loaded.iter().map(|(n, s)| (n.as_str(), s))).graph;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    for theirs in parity["nodes"].as_array().unwrap() {
        let key = dg_selection::AssetKey(strings(&theirs["key"]));
        let ours = graph.get(&key).unwrap_or_else(|| panic!("no node {key:?}"));
        // Dagster lists a job for an asset only where the job materializes it.
        let jobs: Vec<String> = match ours.is_materializable {
            true => ours.jobs.iter().cloned().collect(),
            false => Vec::new(),
        };
        let what = key.to_user_string();
        assert_eq!(jobs, strings(&theirs["jobs"]), "jobs of {what}");
        let sensors: Vec<String> = ours.sensors.iter().cloned().collect();
        assert_eq!(sensors, strings(&theirs["sensors"]), "sensors of {what}");
        let schedules: Vec<String> = ours.schedules.iter().cloned().collect();
        assert_eq!(
            schedules,
            strings(&theirs["schedules"]),
            "schedules of {what}"
        );
    }
    let mut checked = 0;
    for case in parity["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let exprs = if case["comma"] == true {
            dg_selection::parse_comma_separated(text)
        } else {
            dg_selection::parse(text).map(|e| vec![e])
        };
        let Some(expected) = case["strict"]["keys"].as_array() else {
            continue; // Dagster refuses it: the parser's parity test covers errors.
        };
        let expected: BTreeSet<String> = expected
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        let selected = dg_selection::select_any(
            &graph,
            &exprs.expect("parses"),
            dg_selection::SelectOptions::default(),
        )
        .unwrap_or_else(|e| panic!("`{text}`: {e}"));
        let selected: BTreeSet<String> = selected.iter().map(|k| k.to_user_string()).collect();
        assert_eq!(selected, expected, "`{text}`");
        checked += 1;
    }
    assert!(checked > 150, "only {checked} cases");

    for (selection, keys) in [
        ("job:daily_job", vec!["orders_summary"]),
        ("sensor:ingest_sensor", vec!["raw/customers", "raw/orders"]),
        ("schedule:daily_schedule", vec!["orders_summary"]),
    ] {
        let out = run(ctx
            .dg()
            .args(["list", "defs", "--json", "--assets", selection])
            .current_dir(&ws));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let listed: Vec<String> = serde_json::from_str::<Value>(&out.stdout).unwrap()["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["asset_key"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, keys, "`{selection}`");
    }
}
