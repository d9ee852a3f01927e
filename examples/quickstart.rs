//! An instrumented order service: the README's main job.
//!
//! `cargo run --release --example quickstart` starts the monitor, prints the
//! dashboard address, and processes a stream of orders until Ctrl-C (or for
//! `--seconds N`). Open `/metrics` or `/api/v1/functions` to watch it.

use std::time::{Duration, Instant};

/// An order as it arrives on the wire: `customer;item:qty,item:qty`.
#[derive(Debug)]
struct Order {
    customer: String,
    lines: Vec<(String, u32)>,
}

#[derive(Debug)]
enum OrderError {
    Malformed(String),
    OutOfStock(String),
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderError::Malformed(why) => write!(f, "malformed order: {why}"),
            OrderError::OutOfStock(item) => write!(f, "{item} is out of stock"),
        }
    }
}

#[monitor::profile]
fn parse_order(raw: &str) -> Result<Order, OrderError> {
    let (customer, items) = raw
        .split_once(';')
        .ok_or_else(|| OrderError::Malformed("no ';'".into()))?;
    let lines = items
        .split(',')
        .map(|line| {
            let (item, qty) = line
                .split_once(':')
                .ok_or_else(|| OrderError::Malformed(format!("line {line:?}")))?;
            let qty = qty
                .parse()
                .map_err(|_| OrderError::Malformed(format!("quantity {qty:?}")))?;
            Ok((item.to_string(), qty))
        })
        .collect::<Result<Vec<_>, OrderError>>()?;
    Ok(Order {
        customer: customer.to_string(),
        lines,
    })
}

/// CPU work: a price derived by hashing the item name many times.
#[monitor::profile(budget = "200us")]
fn price_of(item: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for _ in 0..(200 + item.len() * 50) {
        for b in item.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    100 + h % 9_900
}

#[monitor::profile]
fn total_price(order: &Order) -> u64 {
    order
        .lines
        .iter()
        .map(|(item, qty)| price_of(item) * u64::from(*qty))
        .sum()
}

/// I/O-like work: waits on a simulated inventory service.
#[monitor::profile(budget = "4ms")]
async fn reserve_stock(order: &Order, tick: u64) -> Result<(), OrderError> {
    tokio::time::sleep(Duration::from_micros(500 + (tick * 7919) % 4_000)).await;
    match order.lines.iter().find(|(item, _)| item == "unobtainium") {
        Some((item, _)) => Err(OrderError::OutOfStock(item.clone())),
        None => Ok(()),
    }
}

#[monitor::profile(name = "orders::handle", budget = "5ms")]
async fn handle_order(raw: String, tick: u64) -> Result<u64, OrderError> {
    let order = parse_order(&raw)?;
    reserve_stock(&order, tick).await?;
    let total = total_price(&order);
    metrics::histogram!("order_value_cents").record(total as f64);
    metrics::counter!("orders_by_customer_total", "customer" => order.customer).increment(1);
    Ok(total)
}

const ORDERS: &[&str] = &[
    "ada;book:1,pen:3",
    "grace;laptop:1",
    "alan;coffee:12,mug:2,notebook:4",
    "edsger;unobtainium:1",
    "barbara;keyboard:1,mouse:1",
    "ken;pen;3",
    "dennis;cable:5",
];

fn seconds_from_args() -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--seconds")?;
    args.get(at + 1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), monitor::Error> {
    let monitor = monitor::init()?;
    match monitor.dashboard_addr() {
        Some(addr) => {
            println!("dashboard: http://{addr}/");
            println!("metrics:   http://{addr}/metrics");
            println!("functions: http://{addr}/api/v1/functions");
        }
        None => println!("monitor disabled (MONITOR_DISABLE is set)"),
    }
    metrics::describe_histogram!(
        "order_value_cents",
        "Value of each accepted order, in cents."
    );
    metrics::describe_counter!("orders_by_customer_total", "Accepted orders per customer.");

    let deadline = seconds_from_args().map(|s| Instant::now() + Duration::from_secs(s));
    let mut tick = 0u64;
    let mut ticker = tokio::time::interval(Duration::from_millis(2));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = ticker.tick() => {}
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        tick += 1;
        let raw = ORDERS[(tick as usize) % ORDERS.len()].to_string();
        tokio::spawn(async move {
            let outcome = handle_order(raw, tick).await;
            let status = if outcome.is_ok() {
                "accepted"
            } else {
                "rejected"
            };
            metrics::counter!("orders_total", "status" => status).increment(1);
        });
        if tick.is_multiple_of(5_000) {
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
