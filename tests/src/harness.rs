//! The harness the store suites share: a fresh, empty database per test on the in-memory
//! store, SQLite (a file per test) and PostgreSQL (a schema per test, when
//! `DOMAIN_TEST_POSTGRES_URL` is set; otherwise the PostgreSQL tests print that they were
//! skipped), and `suite!`, which writes one `#[tokio::test]` per test and backend.

use domain_core::{Domain, DomainBuilder, EventProcessing};
use sqlx::AssertSqlSafe;

/// The environment variable naming the PostgreSQL server the suite runs against.
pub const POSTGRES_URL_VAR: &str = "DOMAIN_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

/// A fresh, empty database for one test.
pub struct TestDb {
    pub backend: Backend,
    /// The URL to open (`memory:` for the in-memory store); tests that inspect rows use it too.
    pub url: String,
    file: Option<std::path::PathBuf>,
}

impl TestDb {
    /// `None` (after saying so) when the backend is not available here.
    pub async fn create(backend: Backend, test: &str) -> Option<TestDb> {
        match backend {
            Backend::Memory => Some(TestDb {
                backend,
                url: "memory:".into(),
                file: None,
            }),
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!(
                    "domain-conformance-{}-{test}.db",
                    std::process::id()
                ));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                let url = format!("sqlite://{}", file.display());
                Some(TestDb {
                    backend,
                    url,
                    file: Some(file),
                })
            }
            Backend::Postgres => {
                let Ok(server) = std::env::var(POSTGRES_URL_VAR) else {
                    println!("skipped: {test} on PostgreSQL ({POSTGRES_URL_VAR} is not set)");
                    return None;
                };
                let schema = format!("conformance_{test}");
                let pool = sqlx::PgPool::connect(&server)
                    .await
                    .expect("the PostgreSQL test server accepts connections");
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
                let joiner = if server.contains('?') { '&' } else { '?' };
                Some(TestDb {
                    backend,
                    url: format!("{server}{joiner}options=-c%20search_path%3D{schema}"),
                    file: None,
                })
            }
        }
    }

    /// A domain on this database (a new, empty one each time for the in-memory store).
    pub async fn domain(&self) -> Domain {
        self.domain_processing(EventProcessing::Sync).await
    }

    /// A domain on this database whose event handlers receive events in `mode`.
    pub async fn domain_processing(&self, mode: EventProcessing) -> Domain {
        self.open(self.builder().event_processing(mode)).await
    }

    /// A builder of a domain on this database, for a test that sets more options.
    pub fn builder(&self) -> DomainBuilder {
        Domain::builder("Conformance").database(&self.url)
    }

    /// Opens `builder`'s domain, or panics saying on which database.
    pub async fn open(&self, builder: DomainBuilder) -> Domain {
        builder
            .open()
            .await
            .unwrap_or_else(|e| panic!("opening {:?} at {}: {e}", self.backend, self.url))
    }

    pub fn durable(&self) -> bool {
        self.backend != Backend::Memory
    }

    /// Runs raw SQL against the database (durable backends only); returns the rows it changed.
    pub async fn raw_sql(&self, sql: &str) -> u64 {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                let done = sqlx::query(AssertSqlSafe(sql.to_owned()))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                done.rows_affected()
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                let done = sqlx::query(AssertSqlSafe(sql.to_owned()))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                done.rows_affected()
            }
            Backend::Memory => unreachable!("raw SQL on the in-memory store"),
        }
    }

    /// The one integer `sql` selects (durable backends only).
    pub async fn raw_i64(&self, sql: &str) -> i64 {
        self.raw_scalar(sql.to_owned()).await
    }

    /// The one value `sql` selects, read as `T` (durable backends only).
    async fn raw_scalar<T>(&self, sql: String) -> T
    where
        T: Send
            + Unpin
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Postgres>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>,
    {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                let value = sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                value
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                let value = sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                value
            }
            Backend::Memory => unreachable!("raw SQL on the in-memory store"),
        }
    }

    /// The `data` of the `aggregates` row of `id`, as JSON.
    pub async fn row_data(&self, id: &str) -> serde_json::Value {
        let sql = match self.backend {
            Backend::Postgres => format!("SELECT data::text FROM aggregates WHERE id = '{id}'"),
            _ => format!("SELECT data FROM aggregates WHERE id = '{id}'"),
        };
        let text: String = self.raw_scalar(sql).await;
        serde_json::from_str(&text).unwrap()
    }

    /// Replaces the `data` of the `aggregates` row of `id`.
    pub async fn set_row_data(&self, id: &str, data: &serde_json::Value) {
        let cast = if self.backend == Backend::Postgres {
            "::jsonb"
        } else {
            ""
        };
        let text = data.to_string().replace('\'', "''");
        let changed = self
            .raw_sql(&format!(
                "UPDATE aggregates SET data = '{text}'{cast} WHERE id = '{id}'"
            ))
            .await;
        assert_eq!(changed, 1);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// Generates one `#[tokio::test]` per test and backend: `memory::name`, `sqlite::name`,
/// `postgres::name`.
#[macro_export]
macro_rules! suite {
    (backends: [$($module:ident => $backend:ident),*], tests: $tests:tt) => {
        $( $crate::suite!(@module $module, $backend, $tests); )*
    };
    (@module $module:ident, $backend:ident, [$($test:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    if let Some(db) =
                        $crate::harness::TestDb::create(
                            $crate::harness::Backend::$backend,
                            stringify!($test),
                        )
                        .await
                    {
                        super::$test(db).await;
                    }
                }
            )*
        }
    };
}
