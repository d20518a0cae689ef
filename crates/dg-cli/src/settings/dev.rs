//! Settings of `dg dev`: where to listen and for which host names, which of the server's messages
//! to print, how environments are chosen, and the instance (`$DAGSTER_HOME`, else `.dagster/` at
//! the workspace or project root) with its `dagster.yaml`.

use std::path::PathBuf;

use dg_config::Context;
use dg_python::EnvOptions;
use dg_server::allowed_hosts::AllowedHosts;
use dg_server::HostOptions;
use dg_storage::LogLevel;

use crate::args::DevArgs;
use crate::error::{CliError, CliResult};

/// What `dg dev` runs with.
pub struct DevSettings {
    /// `--host`.
    pub host: String,
    /// `--port` (`0` picks a free one).
    pub port: u16,
    /// The host names requests may name: loopback, `--host` and each `--allowed-host`.
    pub allowed_hosts: AllowedHosts,
    /// `--log-level`: `debug` adds the traceback of each failed location, `info` (the default)
    /// each location as it loads, and above only errors and warnings.
    pub level: LogLevel,
    /// How the host runs locations (environments, the instance).
    pub options: HostOptions,
    /// The instance folder.
    pub home: PathBuf,
    /// The instance's `dagster.yaml`.
    pub config: dg_storage::InstanceConfig,
}

impl DevSettings {
    /// Resolves the flags and the instance of `context`.
    pub fn resolve(args: &DevArgs, context: &Context) -> CliResult<Self> {
        let root: PathBuf = match (&context.workspace, &context.project) {
            (Some(w), _) => w.root.clone(),
            (None, Some(p)) => p.root.clone(),
            (None, None) => context.start.clone(),
        };
        let home = dg_storage::resolve_home(&root);
        let config = dg_storage::InstanceConfig::load(&home).map_err(CliError::from_diagnostic)?;
        let options = HostOptions {
            env: EnvOptions {
                use_active_venv: args.use_active_venv,
                ..EnvOptions::default()
            },
            instance_home: Some(home.clone()),
            ..HostOptions::default()
        };
        Ok(Self {
            host: args.host.clone(),
            port: args.port,
            allowed_hosts: AllowedHosts::for_bind(&args.host, args.allowed_host.clone()),
            // clap checked the name against the list in `DevArgs`.
            level: <LogLevel as clap::ValueEnum>::from_str(&args.log_level, true)
                .unwrap_or(LogLevel::Warning),
            options,
            home,
            config,
        })
    }
}
