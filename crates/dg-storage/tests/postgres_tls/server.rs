//! A throwaway PostgreSQL server with TLS on a free loopback port, stopped when dropped (also when
//! the test panics). Its folder holds `ca.crt`, `wrong-ca.crt` (a CA that signed nothing here), the
//! server's certificate for `127.0.0.1` and `localhost`, and `client.crt`/`client.key` for user
//! `dgcert`. `pg_hba.conf` accepts TLS connections only (`hostssl`): `dgcert` by certificate, every
//! other user without a password.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server; dropping it stops it.
pub struct TlsServer {
    /// The folder with the certificates (and the data folder).
    pub dir: PathBuf,
    /// The TCP port, on 127.0.0.1 and 127.0.0.2.
    pub port: u16,
    bin: PathBuf,
    as_postgres: bool,
    _temp: tempfile::TempDir,
}

impl TlsServer {
    /// Starts the server; `None` (with a message) when PostgreSQL's server binaries are missing.
    #[allow(clippy::print_stderr)] // the reason the test is skipped
    pub fn start() -> Option<Self> {
        let Some(bin) = server_bin() else {
            eprintln!(
                "SKIPPED postgres_tls: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin \
                 (install Debian's `postgresql` package)"
            );
            return None;
        };
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        make_certificates(&dir);
        let port = free_port();
        // PostgreSQL refuses to run as root: then the server runs as the `postgres` user.
        let as_postgres = current_uid() == "0";
        let server = Self {
            dir,
            port,
            bin,
            as_postgres,
            _temp: temp,
        };
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&server.dir));
        }
        server.run_pg(
            "initdb",
            &["-D", "data", "-U", "dgtls", "-A", "trust", "-E", "UTF8"],
        );
        let d = server.dir.display();
        fs::write(
            server.dir.join("data/pg_hba.conf"),
            "local all all trust\n\
             hostssl all dgcert 127.0.0.0/8 cert\n\
             hostssl all all 127.0.0.0/8 trust\n",
        )
        .unwrap();
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1,127.0.0.2'\nport = {port}\n\
             unix_socket_directories = '{d}'\nssl = on\nssl_cert_file = '{d}/server.crt'\n\
             ssl_key_file = '{d}/server.key'\nssl_ca_file = '{d}/ca.crt'\nfsync = off\n\
             max_connections = 20\nshared_buffers = 16MB\n"
        );
        let mut text = fs::read_to_string(server.dir.join("data/postgresql.conf")).unwrap();
        text.push_str(&conf);
        fs::write(server.dir.join("data/postgresql.conf"), text).unwrap();
        server.run_pg(
            "pg_ctl",
            &["-D", "data", "-l", "server.log", "-w", "-t", "60", "start"],
        );
        server.run_pg(
            "psql",
            &[
                "-h",
                &d.to_string(),
                "-p",
                &port.to_string(),
                "-U",
                "dgtls",
                "-d",
                "postgres",
                "-qc",
                "CREATE ROLE dgcert LOGIN",
            ],
        );
        Some(server)
    }

    /// Runs a PostgreSQL program in the folder, as `postgres` when we are root.
    fn run_pg(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args).current_dir(&self.dir);
        if !cmd.status().map(|s| s.success()).unwrap_or(false) {
            let log = fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            panic!("`{program} {}` failed; server log:\n{log}", args.join(" "));
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", "data", "-m", "immediate", "-w", "stop"];
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        let _ = cmd.args(args).current_dir(&self.dir).status();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn current_uid() -> String {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl` in `dir` with `args`.
fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").args(args).current_dir(dir));
}

/// A P-256 key and a self-signed CA certificate `<name>.key`, `<name>.crt`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A key and a certificate `<name>.key`, `<name>.crt` signed by `ca`, with extensions `ext`.
fn make_leaf(dir: &Path, name: &str, subject: &str, ext: &str) {
    fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            subject,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
    fs::set_permissions(
        dir.join(format!("{name}.key")),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

fn make_certificates(dir: &Path) {
    make_ca(dir, "ca");
    make_ca(dir, "wrong-ca");
    make_leaf(
        dir,
        "server",
        "/CN=localhost",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    );
    make_leaf(
        dir,
        "client",
        "/CN=dgcert",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=clientAuth\n",
    );
}
