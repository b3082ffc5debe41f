//! A database outage after the domain opened: a command fails fast, within the store's timeout,
//! with a store error (it used to block for about 46 s), and the store reconnects by itself once
//! the database is back. The outage is a TCP proxy in front of PostgreSQL that the test closes
//! and reopens on the same port.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain_core::StoreOptions;
use domain_core::prelude::*;
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
    let Ok(server) = std::env::var("DOMAIN_TEST_POSTGRES_URL") else {
        println!("skipped: the outage test needs DOMAIN_TEST_POSTGRES_URL");
        return;
    };
    let target = server
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a URL like postgres://user@host:port/db")
        .to_string();
    let schema = "outage_test";
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
    let mut tasks = proxy(listener, target.clone());
    let proxied = server.replacen(&target, &format!("127.0.0.1:{port}"), 1);
    let joiner = if proxied.contains('?') { '&' } else { '?' };
    let url = format!("{proxied}{joiner}options=-c%20search_path%3D{schema}");
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
