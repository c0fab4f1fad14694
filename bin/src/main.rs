//! `auth-service`: read the command line and the settings, then serve until SIGINT/SIGTERM
//! (no command, or `serve`) or run one of the other commands and exit.

use std::process::ExitCode;
use std::time::Duration;

use auth_service::cli::{AdminCommand, Cli, Command, KeysCommand};
use auth_service::settings::{LogFilter, Settings};
use auth_service::startup::Application;
use auth_service::telemetry;
use auth_service::{admin, healthcheck, startup};
use clap::Parser as _;
use tracing::level_filters::LevelFilter;

#[expect(
    clippy::print_stderr,
    reason = "errors before logging exists go to stderr"
)]
fn main() -> ExitCode {
    let command = Cli::parse().into_command();
    // A missing .env is normal; real environment variables win over it.
    let _ = dotenvy::dotenv();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::CheckConfig => check_config(&settings),
        Command::Healthcheck { timeout } => healthcheck(&settings, Duration::from_secs(timeout)),
        Command::Admin(command) => run_admin(&settings, &command),
        Command::Keys(command) => run_keys(&settings, &command),
    }
}

/// Applies pending migrations; prints how many and which.
#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command's result is its output"
)]
fn migrate(settings: &Settings) -> ExitCode {
    let _ = telemetry::init_stderr(&LogFilter::level(LevelFilter::WARN), settings.log_format);
    let applied = actix_web::rt::System::new().block_on(startup::migrate(settings));
    match applied {
        Ok(applied) if applied.is_empty() => {
            println!("database schema is current; nothing to apply");
            ExitCode::SUCCESS
        }
        Ok(applied) => {
            println!(
                "applied {} migration(s): {}",
                applied.len(),
                applied.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The settings were read without error (`main` exits 1 with the reason otherwise): prints
/// them, secrets redacted.
#[expect(clippy::print_stdout, reason = "the command's result is its output")]
fn check_config(settings: &Settings) -> ExitCode {
    println!("{settings:#?}");
    println!("configuration is valid");
    ExitCode::SUCCESS
}

/// Exit 0 when the configured instance answers 200 on `/health/ready`.
#[expect(clippy::print_stderr, reason = "the reason for a failed probe")]
fn healthcheck(settings: &Settings, timeout: Duration) -> ExitCode {
    let addr = healthcheck::probe_address(settings.bind_address());
    match healthcheck::probe(addr, timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("unhealthy: {err}");
            ExitCode::FAILURE
        }
    }
}

#[expect(
    clippy::print_stderr,
    reason = "errors before logging exists go to stderr"
)]
fn serve(settings: Settings) -> ExitCode {
    if let Err(err) = telemetry::init(&settings.log_level, settings.log_format) {
        eprintln!("error: cannot start logging: {err}");
        return ExitCode::FAILURE;
    }
    std::panic::set_hook(Box::new(|info| tracing::error!(panic = %info, "panic")));
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        app.run_until_stopped()
            .await
            .map_err(|err| err.to_string())?;
        Ok::<_, Box<dyn std::error::Error>>(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "start-up failed");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// One line on stdout on success, one `error: …` line on stderr otherwise; only warnings and
/// errors are logged, to stderr.
#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command's result is its output"
)]
fn run_admin(settings: &Settings, command: &AdminCommand) -> ExitCode {
    let _ = telemetry::init_stderr(&LogFilter::level(LevelFilter::WARN), settings.log_format);
    let outcome = actix_web::rt::System::new().block_on(admin::run(settings, command));
    match outcome {
        Ok(outcome) => {
            println!("{outcome}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command's result is its output"
)]
fn run_keys(settings: &Settings, command: &KeysCommand) -> ExitCode {
    let _ = telemetry::init_stderr(&LogFilter::level(LevelFilter::WARN), settings.log_format);
    let outcome = actix_web::rt::System::new().block_on(auth_service::keys::run(settings, command));
    match outcome {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
