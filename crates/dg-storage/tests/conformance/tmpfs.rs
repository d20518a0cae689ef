//! A real full disk: a small tmpfs mounted for one test (root only: mounting needs it), unmounted
//! when the guard drops, also when the test panics; lazily if something still holds a file on it.
//! Shared with dg-runs' fault tests (included there by path), so it needs nothing but std and
//! `tempfile`.

use std::path::Path;
use std::process::Command;

/// A mounted tmpfs; unmounted and its mount point removed on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`mount`'s syntax: `2m`), or says why it cannot here.
    pub fn mount(size: &str) -> Result<Tmpfs, String> {
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| format!("could not run `id -u`: {e}"))?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err("mounting a tmpfs needs root, and this test runs as another user".into());
        }
        let dir = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755")])
            .arg("dg-test-full-disk")
            .arg(dir.path())
            .output()
            .map_err(|e| format!("could not run `mount`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`mount -t tmpfs` failed (a container without CAP_SYS_ADMIN?): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Connections of a dropped pool close in the background: give them a moment.
        for _ in 0..20 {
            let unmounted = Command::new("umount")
                .arg(self.dir.path())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if unmounted {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // Still busy (a process holds a file there): detach it now, freed once released.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}
