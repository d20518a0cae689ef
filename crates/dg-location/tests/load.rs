//! Loading real fixture projects with the real agent, real Python and real `dagster`: snapshots
//! deserialize strictly into the Rust types, failures are isolated and name file and line, hangs
//! time out, and the cache skips Python when nothing changed.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use dg_config::Diagnostic;
use dg_location::{
    load_all, load_location, CacheMode, LoadError, LoadOptions, LoadedLocation, LocationSpec,
    SnapshotCache,
};

fn options(cache_dir: &std::path::Path) -> LoadOptions {
    LoadOptions {
        jobs: 2,
        timeout: Duration::from_secs(300),
        cache: Some(SnapshotCache::new(cache_dir)),
        ..LoadOptions::default()
    }
}

fn load_many(names: &[&str]) -> BTreeMap<String, Result<LoadedLocation, LoadError>> {
    let dir = tempfile::tempdir().unwrap();
    let specs: Vec<LocationSpec> = names
        .iter()
        .map(|n| common::project(dir.path(), n))
        .collect();
    let opts = LoadOptions {
        cache_mode: CacheMode::Off,
        ..options(&dir.path().join("cache"))
    };
    load_all(specs, opts)
        .map(|(spec, result)| (spec.name, result))
        .collect()
}

fn key(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn good_and_bad_locations_load_side_by_side() {
    let results = load_many(&[
        "rich",
        "defs_object",
        "autoload",
        "prints",
        "syntax_error",
        "import_error",
        "missing_dep",
        "raises",
        "crashes",
    ]);
    assert_eq!(results.len(), 9);

    // A `@definitions` function with every kind of definition.
    let rich = &results["rich"].as_ref().expect("rich loads").snapshot;
    assert_eq!(rich.loaded_from.kind, "definitions_function");
    assert_eq!(rich.loaded_from.attribute.as_deref(), Some("defs"));
    assert_eq!(rich.dagster_version, dg_test::python::dagster_version());
    assert!(rich.python_version.starts_with("3.11"));
    let assets: BTreeMap<String, _> = rich.assets.iter().map(|a| (a.key_string(), a)).collect();
    assert_eq!(
        assets.keys().collect::<Vec<_>>(),
        [
            "by_region",
            "daily_orders",
            "external/raw",
            "observed",
            "orders"
        ]
    );
    let orders = assets["orders"];
    assert_eq!(orders.group_name, "raw");
    assert_eq!(orders.kinds, ["duckdb", "python"]);
    assert_eq!(orders.description.as_deref(), Some("Raw orders"));
    assert_eq!(orders.tags.get("team").map(String::as_str), Some("a"));
    assert_eq!(orders.owners, ["team:data", "ana@example.com"]);
    assert_eq!(orders.code_version.as_deref(), Some("v1"));
    assert_eq!(orders.metadata["rows"].value, serde_json::json!(3));
    assert_eq!(orders.metadata["url"].type_name, "UrlMetadataValue");
    assert!(orders.is_materializable && orders.is_executable);
    let daily = assets["daily_orders"];
    assert_eq!(daily.deps, [key(&["orders"])]);
    let partitions = daily.partitions.as_ref().unwrap();
    assert_eq!(partitions.kind, "time_window");
    assert_eq!(partitions.cron_schedule.as_deref(), Some("0 0 * * *"));
    assert_eq!(
        daily
            .automation_condition
            .as_ref()
            .unwrap()
            .label
            .as_deref(),
        Some("eager")
    );
    let multi = assets["by_region"].partitions.as_ref().unwrap();
    assert_eq!(multi.kind, "multi");
    let dims = multi.dimensions.as_ref().unwrap();
    assert_eq!(dims.len(), 2);
    assert!(dims
        .iter()
        .any(|d| d.partitions.keys == Some(vec!["eu".into(), "us".into()])));
    assert!(!assets["external/raw"].is_executable);
    assert!(assets["observed"].is_observable);
    let check = &rich.asset_checks[0];
    assert_eq!(check.key_string(), "orders:orders_positive");
    assert!(check.blocking);
    let jobs: Vec<_> = rich.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(jobs, ["op_job", "orders_job"]);
    let schedule = &rich.schedules[0];
    assert_eq!(schedule.cron_schedule, ["0 3 * * *"]);
    assert_eq!(
        schedule.execution_timezone.as_deref(),
        Some("Europe/Berlin")
    );
    assert_eq!(schedule.job_name.as_deref(), Some("orders_job"));
    let watch = rich.sensors.iter().find(|s| s.name == "watch").unwrap();
    assert_eq!(watch.job_names, ["orders_job"]);
    assert_eq!(watch.minimum_interval_seconds, Some(60));
    // What targets each asset, as Dagster's remote repository (its UI) has it.
    assert_eq!(orders.job_names, ["__ASSET_JOB", "orders_job"]);
    assert_eq!(orders.targeting_sensor_names, ["watch"]);
    assert_eq!(orders.targeting_schedule_names, ["orders_job_schedule"]);
    assert_eq!(
        daily.targeting_sensor_names,
        ["default_automation_condition_sensor"]
    );
    assert!(daily.targeting_schedule_names.is_empty());
    let raw = assets["external/raw"];
    assert!(raw.job_names.is_empty() && raw.targeting_sensor_names.is_empty());
    assert_eq!(rich.resources[0].name, "warehouse");
    assert_eq!(rich.resources[0].type_name, "rich.definitions.Warehouse");

    // A `Definitions` object under any name; a dependency on another location's asset by key.
    let other = &results["defs_object"].as_ref().unwrap().snapshot;
    assert_eq!(other.loaded_from.kind, "definitions_object");
    assert_eq!(
        other.loaded_from.attribute.as_deref(),
        Some("some_unusual_name")
    );
    let stub = other
        .assets
        .iter()
        .find(|a| a.key == key(&["orders"]))
        .unwrap();
    assert!(stub.is_auto_created_stub && !stub.is_executable);

    // No target module: the defs folder is autoloaded, nested folders included.
    let auto = &results["autoload"].as_ref().unwrap().snapshot;
    assert_eq!(auto.loaded_from.kind, "defs_folder");
    let keys: Vec<_> = auto.assets.iter().map(|a| a.key_string()).collect();
    assert_eq!(keys, ["autoloaded", "nested"]);
    assert_eq!(auto.jobs[0].name, "nested_job");

    // User code printing (even protocol-looking JSON) does not disturb the channel.
    let prints = results["prints"].as_ref().unwrap();
    assert_eq!(prints.snapshot.assets[0].key, key(&["noisy"]));
    assert!(prints
        .logs
        .stdout
        .iter()
        .any(|l| l == "plain text on stdout"));
    assert!(prints
        .logs
        .stderr
        .iter()
        .any(|l| l == "a warning on stderr"));

    // Failures: each names the location, the file and the line, and exits 1.
    let err = results["syntax_error"].as_ref().unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("code location `syntax_error`"),
        "{message}"
    );
    assert!(
        message.contains("syntax_error/definitions.py:5`"),
        "{message}"
    );
    let details = err.details(false).unwrap();
    assert!(details.contains("def broken(:"), "{details}");
    assert!(details.contains('^'), "{details}");
    assert_eq!(err.exit_code(), 1);

    let err = results["import_error"].as_ref().unwrap_err();
    assert!(err.to_string().contains("ImportError"), "{err}");
    assert!(
        err.to_string().contains("import_error/definitions.py:3`"),
        "{err}"
    );
    let details = err.details(false).unwrap();
    assert!(details.contains("from import_error.helpers import does_not_exist"));
    assert!(!details.contains("<dg-agent>"), "{details}");
    assert!(err.details(true).unwrap().contains("<dg-agent>"));

    let err = results["missing_dep"].as_ref().unwrap_err();
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("uv add pandas_is_not_installed_here"),
        "{hint}"
    );
    assert!(
        err.to_string().contains("missing_dep/definitions.py:2`"),
        "{err}"
    );

    let err = results["raises"].as_ref().unwrap_err();
    assert!(
        err.to_string().contains("config value `region` is missing"),
        "{err}"
    );
    assert!(
        err.to_string().contains("raises/definitions.py:5`"),
        "{err}"
    );
    let details = err.details(false).unwrap();
    assert!(
        details.contains("in read_config") && details.contains("in defs"),
        "{details}"
    );
    assert!(details.contains("system frames hidden"), "{details}");

    let err = results["crashes"].as_ref().unwrap_err();
    assert!(matches!(err, LoadError::Crashed { .. }), "{err}");
    assert!(err.to_string().contains("code location `crashes`"));
    assert!(err.details(false).unwrap().contains("about to crash"));
}

#[test]
fn a_hanging_location_is_stopped_and_the_others_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let specs = vec![
        common::project(dir.path(), "hangs"),
        common::project(dir.path(), "defs_object"),
    ];
    let opts = LoadOptions {
        cache_mode: CacheMode::Off,
        // Generous for a loaded 2-core machine; the hang sleeps for ten minutes.
        timeout: Duration::from_secs(25),
        ..options(&dir.path().join("cache"))
    };
    let results: BTreeMap<_, _> = load_all(specs, opts)
        .map(|(spec, r)| (spec.name, r))
        .collect();
    assert!(results["defs_object"].is_ok());
    let err = results["hangs"].as_ref().unwrap_err();
    assert!(
        matches!(err, LoadError::Timeout { seconds: 25, .. }),
        "{err}"
    );
    assert!(err.hint().unwrap().contains("DG_LOCATION_LOAD_TIMEOUT"));
}

#[test]
fn the_cache_skips_python_until_something_changes() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::project(dir.path(), "defs_object");
    let opts = options(&dir.path().join("cache"));

    let first = load_location(&spec, &opts).unwrap();
    assert!(!first.from_cache);
    let second = load_location(&spec, &opts).unwrap();
    assert!(second.from_cache);
    assert_eq!(first.snapshot, second.snapshot);

    // `--no-cache` loads again (and refreshes the entry).
    let refresh = LoadOptions {
        cache_mode: CacheMode::Refresh,
        ..opts.clone()
    };
    assert!(!load_location(&spec, &refresh).unwrap().from_cache);

    // Changing a source file invalidates the entry.
    let file = spec.root.join("defs_object/definitions.py");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("order_summary", "order_report")).unwrap();
    let changed = load_location(&spec, &opts).unwrap();
    assert!(!changed.from_cache);
    assert!(changed
        .snapshot
        .assets
        .iter()
        .any(|a| a.key_string() == "order_report"));

    // So does `.env` (here: a new variable), even though `.gitignore` usually hides it.
    std::fs::write(spec.root.join(".gitignore"), ".env\n").unwrap();
    // (The new `.gitignore` is itself a project file.)
    assert!(!load_location(&spec, &opts).unwrap().from_cache);
    let env_file = spec.root.join(".env");
    let mut env_text = std::fs::read_to_string(&env_file).unwrap();
    env_text.push_str("EXTRA=1\n");
    std::fs::write(&env_file, env_text).unwrap();
    assert!(!load_location(&spec, &opts).unwrap().from_cache);
    assert!(load_location(&spec, &opts).unwrap().from_cache);
}

#[test]
fn a_missing_environment_names_the_project_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("no_env");
    common::copy_dir(&common::fixture("defs_object"), &root);
    let spec = LocationSpec::new("no_env", &root, "defs_object");
    let mut opts = options(&dir.path().join("cache"));
    opts.env.no_sync = true;
    let err = load_location(&spec, &opts).unwrap_err();
    assert!(matches!(err, LoadError::Environment(_)), "{err}");
    assert!(err.to_string().contains("project `no_env`"), "{err}");
    assert!(err.to_string().contains(".venv"), "{err}");
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("uv sync") && hint.contains("--no-sync"),
        "{hint}"
    );
    assert_eq!(err.exit_code(), 2);
}
