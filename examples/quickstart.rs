//! An instrumented order service: the README's main job.
//!
//! `cargo run --release --example quickstart` starts the monitor, starts the
//! order service (`support/orders.rs`) on a free port of 127.0.0.1 and
//! sends it a light stream of orders until Ctrl-C (or for `--seconds N`),
//! so the dashboard always has data. Open `/metrics` or `/api/v1/functions`
//! to watch it, or send your own: `curl -d 'ada;pen:2' http://ADDR/orders`.

use std::time::{Duration, Instant};

use monitor::health::{self, checks};
use monitor_workspace::orders::{OrderService, ORDERS};

/// Background traffic: one order every this often.
const TRAFFIC_PERIOD: Duration = Duration::from_millis(5);

fn seconds_from_args() -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--seconds")?;
    args.get(at + 1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let monitor = monitor::init()?;
    match monitor.dashboard_addr() {
        Some(addr) => {
            println!("dashboard: http://{addr}/");
            println!("metrics:   http://{addr}/metrics");
            println!("functions: http://{addr}/api/v1/functions");
            println!("endpoints: http://{addr}/api/v1/endpoints");
            println!("health:    http://{addr}/health");
        }
        None => println!("monitor disabled (MONITOR_DISABLE is set)"),
    }
    metrics::describe_histogram!(
        "order_value_cents",
        "Value of each accepted order, in cents."
    );
    metrics::describe_counter!("orders_by_customer_total", "Accepted orders per customer.");

    let service = OrderService::start(([127, 0, 0, 1], 0).into()).await?;
    println!("orders:    {}/orders (POST)", service.url());
    // The components the service depends on, as /health shows them.
    health::register_async("orders-http", checks::tcp_connect(service.addr.to_string()));
    health::register(
        "disk",
        checks::disk_space(".", checks::MinFree::Percent(5.0)),
    )
    .critical(false);

    let client = reqwest::Client::new();
    let url = format!("{}/orders", service.url());
    let deadline = seconds_from_args().map(|s| Instant::now() + Duration::from_secs(s));
    let mut tick = 0u64;
    let mut ticker = tokio::time::interval(TRAFFIC_PERIOD);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = ticker.tick() => {}
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        tick += 1;
        let request = client
            .post(&url)
            .body(ORDERS[(tick as usize) % ORDERS.len()])
            .timeout(Duration::from_secs(5));
        tokio::spawn(async move {
            if let Ok(response) = request.send().await {
                let _ = response.bytes().await;
            }
        });
        if tick.is_multiple_of(2_000) {
            let snapshot = monitor.snapshot();
            let handled = snapshot
                .functions
                .iter()
                .find(|f| f.name == "orders::handle");
            if let Some(f) = handled {
                println!(
                    "{} orders, {} rejected, p99 {:.2} ms",
                    f.calls,
                    f.errors,
                    f.p99_ns as f64 / 1e6
                );
            }
        }
    }
    println!("stopping");
    Ok(())
}
