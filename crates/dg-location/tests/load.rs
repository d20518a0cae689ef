//! Loading real fixture projects with the real agent, real Python and real `dagster`: snapshots
//! deserialize strictly into the Rust types, failures are isolated and name file and line, hangs
//! time out, and the cache skips Python when nothing changed.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use dg_core::Diagnostic;
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

fn key(parts: &[&str]) -> dg_location::snapshot::AssetKey {
    dg_location::snapshot::AssetKey::new(parts.iter().copied())
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
    // The agent's own frames (files of its package) are folded away unless verbose.
    assert!(!details.contains("_dg_agent"), "{details}");
    assert!(err.details(true).unwrap().contains("_dg_agent/load.py"));

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

/// What loading itself writes never makes the next load miss the cache: a fresh environment whose
/// first import of a single-file module makes Python create `site-packages/__pycache__` (the cause
/// of a cold reload in an otherwise warm benchmark), an instance home inside the project that user
/// code opens at import (`DagsterInstance.get()` creates its databases there), and the
/// `.tmp_dagster_home_*` folder a real `dagster dev` keeps in the project while it runs. A real
/// change still misses, and the miss names it.
#[test]
fn what_loading_writes_does_not_invalidate_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::project(dir.path(), "defs_object");
    let opts = options(&dir.path().join("cache"));

    // An environment of the project's own, made now: `dagster` comes from the shared one
    // through a `.pth` file; a single-file module sits at the top of its `site-packages`.
    let venv = dir.path().join("venv");
    let made = std::process::Command::new(dg_test::python::shared_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let site_of = |python: &std::path::Path| {
        let out = std::process::Command::new(python)
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ])
            .output()
            .unwrap();
        std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    };
    let site = site_of(&venv.join("bin/python"));
    let shared_site = site_of(dg_test::python::shared_python());
    std::fs::write(
        site.join("shared.pth"),
        format!("{}\n", shared_site.display()),
    )
    .unwrap();
    std::fs::write(site.join("dg_probe_helper.py"), "VALUE = 1\n").unwrap();
    let home = spec.root.join("dagster_home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(
        spec.root.join(".env"),
        format!(
            "DG_PROJECT_PYTHON_EXECUTABLE={}\nDAGSTER_HOME={}\n\
             # Python writes bytecode here whatever the machine's default.\n\
             PYTHONDONTWRITEBYTECODE=\n",
            venv.join("bin/python").display(),
            home.display()
        ),
    )
    .unwrap();
    let definitions = spec.root.join("defs_object/definitions.py");
    let mut text = std::fs::read_to_string(&definitions).unwrap();
    text.push_str("\nimport dg_probe_helper  # noqa: E402,F401\n\ndg.DagsterInstance.get()\n");
    std::fs::write(&definitions, text).unwrap();

    let first = load_location(&spec, &opts).unwrap();
    assert!(!first.from_cache);
    assert_eq!(first.cache_miss, Some(dg_location::cache::CacheMiss::Empty));
    assert!(
        site.join("__pycache__").is_dir(),
        "the load wrote no bytecode: the test proves nothing"
    );
    assert!(
        std::fs::read_dir(&home).unwrap().next().is_some(),
        "the load wrote nothing to the instance home: the test proves nothing"
    );
    let second = load_location(&spec, &opts).unwrap();
    assert!(second.from_cache, "missed: {:?}", second.cache_miss);

    // A real `dagster dev` running in the project keeps its temporary instance there.
    std::fs::create_dir_all(spec.root.join(".tmp_dagster_home_x1y2/history")).unwrap();
    std::fs::write(
        spec.root.join(".tmp_dagster_home_x1y2/history/runs.db"),
        "x",
    )
    .unwrap();
    let third = load_location(&spec, &opts).unwrap();
    assert!(third.from_cache, "missed: {:?}", third.cache_miss);

    std::fs::write(spec.root.join("notes.txt"), "new\n").unwrap();
    let changed = load_location(&spec, &opts).unwrap();
    assert!(!changed.from_cache);
    assert_eq!(changed.cache_miss.unwrap().to_string(), "`notes.txt` added");
}
