//! `fake-apiserver`: the in-memory API server as a process, for scripts and
//! benchmarks. Prints `listening on http://127.0.0.1:PORT` once ready;
//! knobs and counters are under `/_fake/` (see the library docs).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use fake_apiserver::{Config, ControllerConfig, FakeApiServer, Faults};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "In-memory Kubernetes API server for tests and benchmarks"
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Delay before workloads become ready and CRDs Established, in ms.
    #[arg(long, default_value_t = 0)]
    ready_delay_ms: u64,
    /// Seed for fault injection and generated ids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write a kubeconfig for the server here.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config {
        port: args.port,
        seed: args.seed,
        faults: Faults::latency(Duration::from_millis(args.latency_ms)),
        controller: ControllerConfig {
            ready_delay: Duration::from_millis(args.ready_delay_ms),
            ..ControllerConfig::default()
        },
        ..Config::default()
    };
    let server = FakeApiServer::start(config).await?;
    if let Some(path) = &args.kubeconfig {
        server
            .write_kubeconfig(path)
            .map_err(|e| anyhow::anyhow!("Failed to write kubeconfig {}: {e}", path.display()))?;
    }
    println!("listening on {}", server.url());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    server.shutdown().await;
    Ok(())
}
