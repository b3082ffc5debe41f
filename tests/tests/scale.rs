//! Scale: 100,000 commands through the in-memory stores. Each command's handler creates an
//! aggregate and raises an event; an event handler creates another aggregate. Stores must cost
//! O(1) amortized per operation whatever their size (Protean's memory store copies the whole
//! database per unit of work and slows quadratically), so the last 10% of the commands must not
//! take much longer than the first 10%.

use std::time::{Duration, Instant};

use domain_core::prelude::*;

const COMMANDS: usize = 100_000;
const WINDOW: usize = COMMANDS / 10;
const MAX_RATIO: f64 = 2.0;

#[aggregate]
pub struct ScOrder {
    pub number: i64,
}

#[aggregate]
pub struct ScInvoice {
    pub order_id: Identifier,
    pub number: i64,
}

#[event(part_of = ScOrder)]
pub struct ScOrderPlaced {
    pub order_id: Identifier,
    pub number: i64,
}

#[command(part_of = ScOrder)]
pub struct ScPlaceOrder {
    pub number: i64,
}

#[derive(Default)]
pub struct ScOrderCommands;

#[command_handler(part_of = ScOrder)]
impl ScOrderCommands {
    #[handle(ScPlaceOrder)]
    fn place(&self, command: ScPlaceOrder, ctx: &mut Context) -> Result<Identifier> {
        let mut order = ScOrder::builder().number(command.number).build()?;
        order.raise(ScOrderPlaced {
            order_id: order.id(),
            number: command.number,
        });
        let id = order.id();
        ctx.repository::<ScOrder>().add(order)?;
        Ok(id)
    }
}

#[derive(Default)]
pub struct ScInvoicing;

#[event_handler(part_of = ScInvoice, stream_category = "sc_order")]
impl ScInvoicing {
    #[handle(ScOrderPlaced)]
    fn on_placed(&self, event: &ScOrderPlaced, ctx: &mut Context) -> Result<()> {
        let invoice = ScInvoice::builder()
            .order_id(event.order_id.clone())
            .number(event.number)
            .build()?;
        ctx.repository::<ScInvoice>().add(invoice)
    }
}

/// Commands per timed chunk: each 10% window is 20 chunks.
const CHUNK: usize = WINDOW / 20;

/// CPU time consumed by the calling thread so far, where a per-thread CPU clock exists. The test
/// runs on a current-thread runtime, so this is the work of the commands themselves, unaffected by
/// other processes competing for the cores; elsewhere wall time is the fallback.
fn thread_cpu_time() -> Option<Duration> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .map(|t| t.as_duration())
}

/// The time one 10% window took, summed over its chunks.
#[derive(Default)]
struct Window {
    wall: Duration,
    cpu: Duration,
    chunks: usize,
}

#[tokio::test]
async fn hundred_thousand_commands_cost_the_same_at_the_end_as_at_the_start() {
    let domain = Domain::builder("Scale").build().unwrap();
    let use_cpu = thread_cpu_time().is_some();
    let started = Instant::now();
    let mut first = Window::default();
    let mut last = Window::default();
    let mut last_id = None;
    let mut n = 0;
    while n < COMMANDS {
        let (wall, cpu) = (Instant::now(), thread_cpu_time());
        for _ in 0..CHUNK {
            let id = domain
                .process(ScPlaceOrder { number: n as i64 })
                .await
                .unwrap();
            last_id = Some(id);
            n += 1;
        }
        let wall = wall.elapsed();
        let cpu = match (cpu, thread_cpu_time()) {
            (Some(before), Some(after)) => after.saturating_sub(before),
            _ => wall,
        };
        let window = if n <= WINDOW {
            &mut first
        } else if n > COMMANDS - WINDOW {
            &mut last
        } else {
            continue;
        };
        window.wall += wall;
        window.cpu += cpu;
        window.chunks += 1;
    }
    let total = started.elapsed();
    assert_eq!((first.chunks, last.chunks), (20, 20));

    let wall_ratio = last.wall.as_secs_f64() / first.wall.as_secs_f64();
    let cpu_ratio = last.cpu.as_secs_f64() / first.cpu.as_secs_f64();
    println!(
        "scale: {COMMANDS} commands in {total:.2?} ({:.1} µs/command)\n\
         scale: first {WINDOW}: cpu {:.2?}, wall {:.2?}; last {WINDOW}: cpu {:.2?}, wall {:.2?}\n\
         scale: last/first = {cpu_ratio:.3} (cpu), {wall_ratio:.3} (wall){}",
        total.as_secs_f64() * 1e6 / COMMANDS as f64,
        first.cpu,
        first.wall,
        last.cpu,
        last.wall,
        if use_cpu {
            ""
        } else {
            "; no thread CPU clock here, cpu = wall"
        },
    );

    // Everything was stored and dispatched.
    assert_eq!(
        domain.event_store().last_position().await.unwrap(),
        COMMANDS as u64
    );
    let last_id = last_id.unwrap();
    let order = domain.repository::<ScOrder>().get(&last_id).await.unwrap();
    assert_eq!(order.number, COMMANDS as i64 - 1);
    let invoice = domain
        .repository::<ScInvoice>()
        .find_by(ScInvoice::ORDER_ID.eq(last_id.clone()))
        .await
        .unwrap();
    assert_eq!(invoice.number, COMMANDS as i64 - 1);
    assert_eq!(
        domain
            .repository::<ScInvoice>()
            .query()
            .count()
            .await
            .unwrap(),
        COMMANDS
    );
    assert_eq!(
        domain
            .event_store()
            .read_stream(&format!("sc_order-{last_id}"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(domain.failed_deliveries().await.unwrap().is_empty());

    // The thread's CPU time is asserted: unlike wall time, it does not count the time other
    // processes on the machine take the cores away from this test.
    assert!(
        cpu_ratio < MAX_RATIO,
        "the last {WINDOW} commands took {cpu_ratio:.2}x the CPU time of the first {WINDOW}: \
         per-operation cost grows with the store size"
    );
}
