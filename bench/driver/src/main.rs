//! The helper of `bench/run.py` that needs the service's own crypto.
//!
//! - `auth-bench ceiling <threads> <seconds> <m_kib> <t> <p>`: verifications per second of
//!   `threads` threads verifying in parallel, each in its own reused memory, as the service's
//!   hashing threads do. Prints one number. This is the ceiling that login throughput is
//!   compared with: it counts the cache and memory-bandwidth contention of parallel hashes
//!   that a single-thread figure hides.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_crypto::{
    Argon2Params, CryptoError, HashingMemory, PasswordConfig, PasswordForm, PasswordHasher,
};
use secrecy::SecretString;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["ceiling", threads, seconds, m, t, p] => {
            parse(&[threads, seconds, m, t, p]).and_then(|n| {
                ceiling(
                    usize::try_from(n[0]).unwrap_or(1),
                    n[1],
                    config(n[2], n[3], n[4]),
                )
            })
        }
        _ => Err("usage: auth-bench ceiling <threads> <seconds> <m_kib> <t> <p>".into()),
    };
    match result {
        Ok(line) => {
            #[expect(clippy::print_stdout, reason = "the figure is the program's output")]
            {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            #[expect(clippy::print_stderr, reason = "a command-line error")]
            {
                eprintln!("auth-bench: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

fn parse(words: &[&&str]) -> Result<Vec<u64>, String> {
    words
        .iter()
        .map(|w| w.parse().map_err(|_| format!("not a number: {w}")))
        .collect()
}

fn config(m_cost_kib: u64, t_cost: u64, p_cost: u64) -> PasswordConfig {
    let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    PasswordConfig {
        argon2: Argon2Params {
            m_cost_kib: narrow(m_cost_kib),
            t_cost: narrow(t_cost),
            p_cost: narrow(p_cost),
        },
        ..PasswordConfig::default()
    }
}

/// Verifications per second of `threads` threads for `seconds`.
fn ceiling(threads: usize, seconds: u64, config: PasswordConfig) -> Result<String, String> {
    let hasher = PasswordHasher::new(config).map_err(|e| e.to_string())?;
    let password = SecretString::from("bench-password-1");
    let stored = hasher.hash(&password).map_err(|e| e.to_string())?;
    let (done, stop) = (AtomicU64::new(0), AtomicBool::new(false));
    let started = Instant::now();
    let outcome: Result<(), CryptoError> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut memory = HashingMemory::for_config(hasher.config());
                    while !stop.load(Ordering::Relaxed) {
                        let form = PasswordForm::Normalized;
                        hasher.verify_in(&password, stored.as_str(), form, &mut memory)?;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or(Ok(())))
    });
    outcome.map_err(|e| e.to_string())?;
    let count = u32::try_from(done.load(Ordering::Relaxed)).unwrap_or(u32::MAX);
    let rate = f64::from(count) / started.elapsed().as_secs_f64();
    Ok(format!("{rate:.1}"))
}
