//! `auth-service`: read settings, start logging, serve until SIGINT/SIGTERM.

use std::process::ExitCode;

use auth_service::settings::Settings;
use auth_service::startup::Application;
use auth_service::telemetry;

#[expect(
    clippy::print_stderr,
    reason = "errors before logging exists go to stderr"
)]
fn main() -> ExitCode {
    // A missing .env is normal; real environment variables win over it.
    let _ = dotenvy::dotenv();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = telemetry::init(&settings.log_level, settings.log_format) {
        eprintln!("error: invalid LOG_LEVEL: {err}");
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
