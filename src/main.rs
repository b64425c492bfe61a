//! The `leaf` command: parses the command line and calls into the library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use leaf::app::{Application, prepare_data_dir};
use leaf::auth::keys;
use leaf::config::{Config, Overrides};
use leaf::store::{Store, embedded_migrations};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(version, about = "Leaf: the tournament appliance for poker venues")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run Leaf (the default).
    Serve(ServeArgs),
    /// Validate a configuration file and exit (non-zero with the reason if it is bad).
    CheckConfig {
        /// The TOML file to check.
        file: PathBuf,
    },
    /// Apply pending database migrations and exit.
    Migrate(ServeArgs),
    /// Create the data directory and the signing key (once; an existing key is kept).
    Provision(ServeArgs),
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "LEAF_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (also LEAF_DATA).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on, such as 127.0.0.1:8080 (also LEAF_LISTEN).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

impl ServeArgs {
    fn load(&self) -> Result<Config, leaf::config::ConfigError> {
        Config::load(
            self.config.as_deref(),
            |name| std::env::var(name).ok(),
            &Overrides {
                data: self.data.clone(),
                listen: self.listen,
            },
        )
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,async_nats=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = match cli.command {
        Some(Command::CheckConfig { file }) => check_config(&file),
        Some(Command::Migrate(args)) => runtime().and_then(|rt| rt.block_on(migrate(args))),
        Some(Command::Provision(args)) => provision(&args),
        Some(Command::Serve(args)) => runtime().and_then(|rt| rt.block_on(serve(args))),
        None => runtime().and_then(|rt| rt.block_on(serve(cli.serve))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leaf: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn check_config(file: &std::path::Path) -> anyhow::Result<()> {
    let config = Config::from_file(file)?;
    println!(
        "{}: ok (listen {}, data {}, venue {}, nats {})",
        file.display(),
        config.listen,
        config.data.display(),
        config.venue,
        config.nats.url.as_deref().unwrap_or("managed")
    );
    Ok(())
}

fn provision(args: &ServeArgs) -> anyhow::Result<()> {
    let config = args.load()?;
    prepare_data_dir(&config.data)?;
    let path = keys::key_path(&config.data);
    match keys::provision(&config.data)? {
        keys::Provisioned::Created => println!("created {}", path.display()),
        keys::Provisioned::AlreadyThere => println!("kept {} (it exists already)", path.display()),
    }
    keys::load(&config.data)?;
    Ok(())
}

async fn migrate(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.load()?;
    prepare_data_dir(&config.data)?;
    let store = Store::open(&config.data.join("leaf.db"), &embedded_migrations()).await?;
    println!(
        "database at schema version {}",
        store.schema_version().await?
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.load()?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let app = Application::build(config, shutdown).await?;
    app.run_until_stopped().await?;
    Ok(())
}

/// SIGINT or SIGTERM starts a graceful shutdown; a second one ends leaf at once.
async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
    shutdown.cancel();
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::warn!("second signal: exiting now");
    std::process::exit(130);
}
