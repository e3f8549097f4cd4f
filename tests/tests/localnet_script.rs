//! `scripts/localnet.sh` tells a zombie from a running node (issue 11, item 8): `kill -0`
//! succeeds on a zombie, and in a container whose first process does not reap, a node killed
//! a moment ago stays one. The script used to report such a node as running and then fail to
//! start it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn proc_state(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the command name in parentheses.
    let after = stat.rsplit_once(") ")?.1;
    after.split_whitespace().next().map(str::to_string)
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the repository")
}

#[test]
fn status_reports_a_zombie_node_as_stopped_and_a_live_one_as_running() {
    // A zombie: `sleep 0.05` exits while its parent (bash, replaced by `sleep 30`) never
    // reaps it.
    let mut parent = Command::new("bash")
        .args(["-c", "sleep 0.05 & echo $!; exec sleep 30"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("bash");
    let mut line = String::new();
    BufReader::new(parent.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("child pid");
    let zombie: u32 = line.trim().parse().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while proc_state(zombie).as_deref() != Some("Z") {
        assert!(Instant::now() < deadline, "the child never became a zombie");
        std::thread::sleep(Duration::from_millis(20));
    }
    // What the old check asked: kill -0 says "alive".
    let kill0 = Command::new("kill")
        .args(["-0", &zombie.to_string()])
        .status()
        .expect("kill");
    assert!(kill0.success(), "kill -0 succeeds on a zombie");

    let mut live = Command::new("sleep").arg("30").spawn().expect("sleep");
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, pid) in [(0, zombie), (1, live.id())] {
        let home = dir.path().join(format!("node{i}"));
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(home.join("pid"), pid.to_string()).expect("pid file");
    }
    let out = Command::new(repo_root().join("scripts/localnet.sh"))
        .arg("status")
        .env("LOCALNET_DIR", dir.path())
        .output()
        .expect("localnet.sh status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines().any(|l| l == "node0: stopped"),
        "a zombie is not a running node: {text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("node1: running")),
        "a live process is: {text}"
    );
    let _ = live.kill();
    let _ = live.wait();
    let _ = parent.kill();
    let _ = parent.wait();
}
