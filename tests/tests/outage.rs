//! A database outage after the domain opened: a command fails fast, within the store's timeout,
//! with a store error (it used to block for about 46 s), and the store reconnects by itself once
//! the database is back; the async engine rides an outage out with backoff and then delivers
//! every event committed before it, once. The outage is a TCP proxy in front of PostgreSQL that
//! the test closes and reopens on the same port.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain_core::prelude::*;
use domain_core::{EventProcessing, StoreOptions};
use sqlx::AssertSqlSafe;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[aggregate]
pub struct OgTicket {
    pub title: String,
}

#[command(part_of = OgTicket)]
pub struct OgOpenTicket {
    pub title: String,
}

#[derive(Default)]
pub struct OgCommands;

#[command_handler(part_of = OgTicket)]
impl OgCommands {
    #[handle(OgOpenTicket)]
    fn open(&self, command: OgOpenTicket, ctx: &mut Context) -> Result<Identifier> {
        let ticket = OgTicket::builder().title(command.title).build()?;
        let id = ticket.id();
        ctx.repository::<OgTicket>().add(ticket)?;
        Ok(id)
    }
}

#[aggregate]
pub struct OgAlarm {
    pub level: i64,
}

#[event(part_of = OgAlarm)]
pub struct OgAlarmRaised {
    pub level: i64,
}

/// Written once per delivered alarm.
#[aggregate]
pub struct OgPage {
    pub level: i64,
}

#[derive(Default)]
pub struct OgPager;

#[event_handler(part_of = OgAlarm)]
impl OgPager {
    #[handle(OgAlarmRaised)]
    fn page(&self, event: &OgAlarmRaised, ctx: &mut Context) -> Result<()> {
        ctx.repository::<OgPage>()
            .add(OgPage::builder().level(event.level).build()?)
    }
}

/// A fresh schema on the test server and a proxy in front of the server: (the URL through the
/// proxy, the proxy's port, the server's address, the proxy's tasks). `None` without a server.
async fn proxied_schema(
    schema: &str,
) -> Option<(String, u16, String, Arc<Mutex<Vec<JoinHandle<()>>>>)> {
    let Ok(server) = std::env::var("DOMAIN_TEST_POSTGRES_URL") else {
        println!("skipped: the outage tests need DOMAIN_TEST_POSTGRES_URL");
        return None;
    };
    let target = server
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a URL like postgres://user@host:port/db")
        .to_string();
    let pool = sqlx::PgPool::connect(&server).await.unwrap();
    for ddl in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(AssertSqlSafe(ddl))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tasks = proxy(listener, target.clone());
    let proxied = server.replacen(&target, &format!("127.0.0.1:{port}"), 1);
    let joiner = if proxied.contains('?') { '&' } else { '?' };
    let url = format!("{proxied}{joiner}options=-c%20search_path%3D{schema}");
    Some((url, port, target, tasks))
}

/// Events committed and commands submitted before an outage, with the engine unable to reach
/// the database for a while: nothing is lost and nothing is recorded as failed; once the
/// database is back the engine delivers each event once and runs each command once. The outage
/// lasts `OUTAGE_SECONDS` (3 by default, to keep CI short; issue 12's figure is 40).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_rides_out_an_outage_and_then_delivers_everything_once() {
    let Some((url, port, target, tasks)) = proxied_schema("outage_engine_test").await else {
        return;
    };
    let domain = Domain::builder("Outage")
        .event_processing(EventProcessing::Async)
        .database(url)
        .store_options(StoreOptions::new().timeout(Duration::from_secs(1)))
        .open()
        .await
        .unwrap();
    for level in 0..10 {
        let mut alarm = OgAlarm::builder().level(level).build().unwrap();
        alarm.raise(OgAlarmRaised { level });
        domain.repository::<OgAlarm>().add(alarm).await.unwrap();
    }
    for n in 0..3 {
        let title = format!("before the outage {n}");
        domain.submit(OgOpenTicket { title }).await.unwrap();
    }
    // The database goes away before the engine delivers or runs anything.
    cut(&tasks);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn({
        let engine = domain.engine().poll_interval(Duration::from_millis(50));
        async move {
            engine
                .run_until(async {
                    stopped.await.ok();
                })
                .await
        }
    });
    let outage = std::env::var("OUTAGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    tokio::time::sleep(Duration::from_secs(outage)).await;
    // Back on the same address.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let tasks = proxy(listener, target);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pages = domain.repository::<OgPage>().query().count().await;
        let tickets = domain.repository::<OgTicket>().query().count().await;
        if pages.as_ref().is_ok_and(|&n| n >= 10) && tickets.as_ref().is_ok_and(|&n| n >= 3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the engine did not deliver after the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(()).unwrap();
    engine.await.unwrap().unwrap();
    let pages = domain.repository::<OgPage>().query().count().await.unwrap();
    assert_eq!(pages, 10, "each alarm paged once");
    let tickets = domain
        .repository::<OgTicket>()
        .query()
        .count()
        .await
        .unwrap();
    assert_eq!(tickets, 3, "each submitted command ran once");
    assert!(domain.failed_deliveries().await.unwrap().is_empty());
    assert!(domain.failed_submissions().await.unwrap().is_empty());
    println!("outage of {outage} s: 10 events delivered once, 3 submitted commands run once");
    cut(&tasks);
}

/// Forwards every connection on `listener` to `target`; aborting the returned tasks is the outage.
fn proxy(listener: TcpListener, target: String) -> Arc<Mutex<Vec<JoinHandle<()>>>> {
    let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
    let pipes = tasks.clone();
    let accept = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let target = target.clone();
            let pipe = tokio::spawn(async move {
                if let Ok(mut server) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
            pipes.lock().unwrap().push(pipe);
        }
    });
    tasks.lock().unwrap().push(accept);
    tasks
}

fn cut(tasks: &Arc<Mutex<Vec<JoinHandle<()>>>>) {
    for task in tasks.lock().unwrap().drain(..) {
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_commands_fast_and_the_store_reconnects() {
    let Some((url, port, target, mut tasks)) = proxied_schema("outage_test").await else {
        return;
    };
    let timeout = Duration::from_secs(2);
    let domain = Domain::builder("Outage")
        .database(url)
        .store_options(StoreOptions::new().timeout(timeout))
        .open()
        .await
        .unwrap();
    let open = |title: &str| OgOpenTicket {
        title: title.into(),
    };
    domain.process(open("before")).await.unwrap();

    // The database goes away: the command fails, and fast.
    cut(&tasks);
    let started = Instant::now();
    let err = domain.process(open("during")).await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Store(_)), "{err}");
    assert!(
        waited < timeout + Duration::from_secs(3),
        "failed after {waited:?}, the timeout is {timeout:?}"
    );

    // It comes back on the same address: the store reconnects without a restart.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tasks = proxy(listener, target);
    let mut recovered = None;
    for _ in 0..20 {
        match domain.process(open("after")).await {
            Ok(id) => {
                recovered = Some(id);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
    let id = recovered.expect("the store reconnects once the database is back");
    assert_eq!(
        domain
            .repository::<OgTicket>()
            .get(&id)
            .await
            .unwrap()
            .title,
        "after"
    );
    assert_eq!(
        domain
            .repository::<OgTicket>()
            .query()
            .count()
            .await
            .unwrap(),
        2
    );
    cut(&tasks);
}
