//! This test binary as a second writer process: `--child-writer <backend> <target> <run_id> <count>
//! <batch> <pause_ms>` opens the same storage and appends the log events 1..=count of the run in batches.

use std::process::ExitCode;

use crate::fixture::open_from_args;
use crate::util::logs;

pub const FLAG: &str = "--child-writer";

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let [kind, target, run_id, count, batch, pause] = args.as_slice() else {
        return ExitCode::from(2);
    };
    let (Ok(count), Ok(batch), Ok(pause)) = (
        count.parse::<i64>(),
        batch.parse::<i64>(),
        pause.parse::<u64>(),
    ) else {
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let storage = open_from_args(kind, target).await;
        let mut start = 1;
        while start <= count {
            let end = (start + batch - 1).min(count);
            storage
                .append_events(run_id, &logs(start..=end))
                .await
                .expect("child appends");
            start = end + 1;
            if pause > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
        }
    });
    ExitCode::SUCCESS
}

/// Spawns a child writer for `db`.
pub fn spawn(
    db: &crate::fixture::TestDb,
    run_id: &str,
    count: i64,
    batch: i64,
    pause_ms: u64,
) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("test binary"))
        .arg(FLAG)
        .args(db.child_args())
        .args([
            run_id.to_string(),
            count.to_string(),
            batch.to_string(),
            pause_ms.to_string(),
        ])
        .spawn()
        .expect("spawn child writer")
}
