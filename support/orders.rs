//! The quickstart's order service, as a small axum HTTP service: `POST
//! /orders` takes a raw order (`customer;item:qty,item:qty`) and answers its
//! total in cents (200), 400 for a malformed order, 409 when an item is out
//! of stock. Its functions are profiled, so a monitor in the same process
//! shows where the time goes. Used by the quickstart example and by the
//! load-test integration test.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;

/// An order as it arrives on the wire: `customer;item:qty,item:qty`.
#[derive(Debug)]
pub struct Order {
    customer: String,
    lines: Vec<(String, u32)>,
}

/// Why an order was refused.
#[derive(Debug)]
pub enum OrderError {
    /// The text is not an order.
    Malformed(String),
    /// An item cannot be reserved.
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

/// Parses the wire format.
#[monitor::profile]
pub fn parse_order(raw: &str) -> Result<Order, OrderError> {
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
                .trim()
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

/// I/O-like work: waits on a simulated inventory service (0.5 to 4.5 ms).
#[monitor::profile(budget = "4ms")]
async fn reserve_stock(order: &Order, tick: u64) -> Result<(), OrderError> {
    tokio::time::sleep(Duration::from_micros(500 + (tick * 7919) % 4_000)).await;
    match order.lines.iter().find(|(item, _)| item == "unobtainium") {
        Some((item, _)) => Err(OrderError::OutOfStock(item.clone())),
        None => Ok(()),
    }
}

/// Handles one order: parse, reserve, price. `tick` varies the simulated
/// inventory latency.
#[monitor::profile(name = "orders::handle", budget = "5ms")]
pub async fn handle_order(raw: String, tick: u64) -> Result<u64, OrderError> {
    let order = parse_order(&raw)?;
    reserve_stock(&order, tick).await?;
    let total = total_price(&order);
    metrics::histogram!("order_value_cents").record(total as f64);
    metrics::counter!("orders_by_customer_total", "customer" => order.customer).increment(1);
    Ok(total)
}

/// Sample orders: most are accepted, one is out of stock, one malformed.
pub const ORDERS: &[&str] = &[
    "ada;book:1,pen:3",
    "grace;laptop:1",
    "alan;coffee:12,mug:2,notebook:4",
    "edsger;unobtainium:1",
    "barbara;keyboard:1,mouse:1",
    "ken;pen;3",
    "dennis;cable:5",
];

/// Orders of [`ORDERS`] that are accepted.
pub const GOOD_ORDERS: &[&str] = &[
    "ada;book:1,pen:3",
    "grace;laptop:1",
    "alan;coffee:12,mug:2,notebook:4",
    "barbara;keyboard:1,mouse:1",
    "dennis;cable:5",
];

async fn post_order(State(ticks): State<Arc<AtomicU64>>, raw: String) -> (StatusCode, String) {
    let tick = ticks.fetch_add(1, Ordering::Relaxed);
    let outcome = handle_order(raw, tick).await;
    let status = if outcome.is_ok() {
        "accepted"
    } else {
        "rejected"
    };
    metrics::counter!("orders_total", "status" => status).increment(1);
    match outcome {
        Ok(total) => (StatusCode::OK, total.to_string()),
        Err(e @ OrderError::Malformed(_)) => (StatusCode::BAD_REQUEST, e.to_string()),
        Err(e @ OrderError::OutOfStock(_)) => (StatusCode::CONFLICT, e.to_string()),
    }
}

/// The service's routes, each request tracked under its route template.
pub fn router() -> Router {
    Router::new()
        .route("/orders", post(post_order))
        .with_state(Arc::new(AtomicU64::new(0)))
        .layer(crate::track_routes())
}

/// A running order service.
pub struct OrderService {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl OrderService {
    /// Starts the service on `addr` (port 0 picks a free port) on the
    /// current tokio runtime.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router()).await;
        });
        Ok(Self { addr, task })
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for OrderService {
    fn drop(&mut self) {
        self.task.abort();
    }
}
