//! Starts the `auth-service` binary as a child process on a free port, learns the port from
//! its `listening` log line, and stops it with SIGKILL or SIGTERM.

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// The binary under test, built by Cargo for this package's integration tests.
const BINARY: &str = env!("CARGO_BIN_EXE_auth-service");

/// The HMAC key every instance of a test shares, so tokens from one work on the others.
const JWT_SECRET_KEY: &str = "process-test-jwt-secret-key-not-for-production-0123456789";

/// How long a start may take: migrations, the first signing key, binding.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment of an instance: the cheapest Argon2 parameters the settings accept, a
/// fixed key, a free port, throttling off (tests that need it turn it on), and only the log
/// line that reports the port.
pub fn base_env(database_url: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url),
        ("JWT_SECRET_KEY", JWT_SECRET_KEY),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        // Several instances run at once: none may take the default metrics port.
        ("METRICS_PORT", ""),
        ("LOG_FORMAT", "json"),
        ("LOG_LEVEL", "warn,auth_service::startup=info"),
        ("ARGON2_MEMORY_KIB", "7168"),
        ("ARGON2_ITERATIONS", "5"),
        ("ARGON2_PARALLELISM", "1"),
        ("RATE_LIMIT_ENABLED", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Sets `key` to `value` in `env`, replacing an earlier value.
pub fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_owned(), value.to_owned()));
}

/// One running instance of the binary. Killed when dropped.
pub struct Instance {
    child: Child,
    port: u16,
    output: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    /// Starts `auth-service` with exactly `env` (nothing inherited) and waits for it to
    /// report its port. Panics with its output if it exits or stays silent.
    pub fn start(env: &[(String, String)]) -> Self {
        let mut child = Command::new(BINARY)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start auth-service");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        drain(child.stdout.take().expect("stdout"), &output, Some(port_tx));
        drain(child.stderr.take().expect("stderr"), &output, None);
        let port = port_rx.recv_timeout(START_TIMEOUT);
        let mut instance = Self {
            child,
            port: 0,
            output,
        };
        if let Ok(port) = port {
            instance.port = port;
        } else {
            instance.kill();
            panic!(
                "auth-service did not report its port:\n{}",
                instance.output()
            );
        }
        instance
    }

    /// Starts an instance and waits until `/health/ready` answers 200.
    pub async fn start_ready(env: &[(String, String)]) -> Self {
        let instance = Self::start(env);
        instance.wait_ready().await;
        instance
    }

    /// Waits until `/health/ready` answers 200.
    pub async fn wait_ready(&self) {
        let client = crate::client::client();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let answer = client.get(self.url("/health/ready")).send().await;
            if answer.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not ready in time:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The absolute URL of `path` on this instance.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything the process wrote so far, for failure messages.
    pub fn output(&self) -> String {
        self.output.lock().expect("output lock").join("\n")
    }

    /// SIGKILL: the process dies at once, mid-request, without any clean-up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: asks for a graceful shutdown.
    pub fn terminate(&self) {
        let pid = Pid::from_child(&self.child);
        kill_process(pid, Signal::TERM).expect("send SIGTERM");
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// Runs `auth-service admin …` (or any other command) with `env`; returns whether it
/// succeeded and what it printed.
pub fn run_command(env: &[(String, String)], args: &[&str]) -> (bool, String) {
    let out = Command::new(BINARY)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(std::env::temp_dir())
        .args(args)
        .output()
        .expect("run auth-service");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Reads `stream` line by line on a thread of its own (so the child never blocks on a full
/// pipe), keeping the lines and sending the port of the `listening` line to `port`.
fn drain(
    stream: impl Read + Send + 'static,
    output: &Arc<Mutex<Vec<String>>>,
    port: Option<mpsc::Sender<u16>>,
) {
    let output = output.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = &port
                && let Some(found) = listening_port(&line)
            {
                let _ = tx.send(found);
            }
            output.lock().expect("output lock").push(line);
        }
    });
}

/// The port of a JSON `listening` log line.
fn listening_port(line: &str) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("message")?.as_str()? != "listening" {
        return None;
    }
    u16::try_from(value.get("port")?.as_u64()?).ok()
}
