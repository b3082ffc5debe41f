//! Samples, percentiles and the printed table.

use std::future::Future;
use std::time::{Duration, Instant};

pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Samples(Vec::with_capacity(n))
    }

    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    /// Adds `other`'s samples (several rounds of one side, measured apart).
    #[cfg(feature = "peer")]
    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    /// Runs `operation` and records how long it took. The clock starts before `operation` is
    /// called, so building the command is timed with the work, on every side alike.
    pub fn time<T>(&mut self, operation: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let output = operation();
        self.push(start.elapsed());
        output
    }

    /// `time` for an asynchronous operation: the clock runs until its future completes.
    pub async fn time_async<F: Future>(&mut self, operation: impl FnOnce() -> F) -> F::Output {
        let start = Instant::now();
        let output = operation().await;
        self.push(start.elapsed());
        output
    }

    /// Samples read back from `nanos` (how a child process hands its timings to the runner).
    #[cfg(feature = "peer")]
    pub fn from_nanos(nanos: impl IntoIterator<Item = u64>) -> Self {
        Samples(nanos.into_iter().map(Duration::from_nanos).collect())
    }

    #[cfg(feature = "peer")]
    pub fn nanos(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().map(|d| d.as_nanos() as u64)
    }

    /// The samples in `range`, e.g. the first or the last window of a run.
    pub fn window(&self, range: std::ops::Range<usize>) -> Samples {
        Samples(self.0[range].to_vec())
    }

    fn total(&self) -> Duration {
        self.0.iter().sum()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }

    pub fn mean_ns(&self) -> f64 {
        self.total().as_nanos() as f64 / self.0.len() as f64
    }
}

pub struct Row {
    name: String,
    operations: String,
    throughput: String,
    p50: String,
    p99: String,
    ratio: String,
}

impl Row {
    /// A timing row; `baseline` gives the ratio column (this row's mean cost / the baseline's).
    pub fn new(name: &str, samples: &Samples, baseline: Option<&Samples>) -> Row {
        let ops_per_sec = samples.0.len() as f64 / samples.total().as_secs_f64();
        Row {
            name: name.to_string(),
            operations: samples.0.len().to_string(),
            throughput: format!("{:.0} ops/s", ops_per_sec),
            p50: format!(
                "{:.2} µs",
                samples.percentile(0.50).as_nanos() as f64 / 1000.0
            ),
            p99: format!(
                "{:.2} µs",
                samples.percentile(0.99).as_nanos() as f64 / 1000.0
            ),
            ratio: baseline.map_or_else(
                || "1.00 (baseline)".into(),
                |b| format!("{:.2}x", samples.mean_ns() / b.mean_ns()),
            ),
        }
    }

    /// A row for operations run concurrently: throughput from the wall-clock time of the whole
    /// run; the ratio is wall time / the baseline's wall time for the same number of operations.
    pub fn concurrent(
        name: &str,
        samples: &Samples,
        wall: Duration,
        baseline_wall: Option<Duration>,
    ) -> Row {
        let mut row = Row::new(name, samples, None);
        row.throughput = format!("{:.0} ops/s", samples.0.len() as f64 / wall.as_secs_f64());
        row.ratio = baseline_wall.map_or_else(
            || "1.00 (baseline)".into(),
            |b| format!("{:.2}x", wall.as_secs_f64() / b.as_secs_f64()),
        );
        row
    }

    /// A row for `items` processed in one go taking `wall`: throughput in items per second; the
    /// ratio is wall time / the baseline's wall time for the same number of items.
    pub fn batch(name: &str, items: usize, wall: Duration, baseline_wall: Option<Duration>) -> Row {
        Row {
            name: name.to_string(),
            operations: items.to_string(),
            throughput: format!("{:.0} events/s", items as f64 / wall.as_secs_f64()),
            p50: "-".into(),
            p99: "-".into(),
            ratio: baseline_wall.map_or_else(
                || "1.00 (baseline)".into(),
                |b| format!("{:.2}x", wall.as_secs_f64() / b.as_secs_f64()),
            ),
        }
    }

    /// A row for long operations (builds): mean and median in seconds.
    pub fn seconds(name: &str, samples: &Samples, baseline: Option<&Samples>) -> Row {
        let mut row = Row::new(name, samples, baseline);
        row.throughput = format!("{:.1} s mean", samples.mean_ns() / 1e9);
        row.p50 = format!("{:.1} s", samples.percentile(0.5).as_secs_f64());
        row.p99 = "-".into();
        row
    }

    /// A row that only says something (a scenario that could not run here, and why).
    pub fn note(name: &str, text: &str) -> Row {
        Row {
            name: name.to_string(),
            operations: "-".into(),
            throughput: text.to_string(),
            p50: "-".into(),
            p99: "-".into(),
            ratio: "-".into(),
        }
    }

    pub fn memory(name: &str, bytes: u64, baseline: Option<u64>) -> Row {
        Row {
            name: name.to_string(),
            operations: "1000000".into(),
            throughput: format!("{:.0} MiB peak RSS", bytes as f64 / (1024.0 * 1024.0)),
            p50: "-".into(),
            p99: "-".into(),
            ratio: baseline.map_or_else(
                || "1.00 (baseline)".into(),
                |b| format!("{:.2}x", bytes as f64 / b.max(1) as f64),
            ),
        }
    }
}

pub fn print_table(rows: &[Row]) {
    println!("| scenario | operations | throughput | p50 | p99 | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.name, r.operations, r.throughput, r.p50, r.p99, r.ratio
        );
    }
}

/// The process's peak resident set size (VmHWM), in bytes; 0 where /proc is unavailable.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// CPU time (user, system) this process has used so far, from `/proc/self/stat` (in the kernel's
/// ticks, 10 ms here); zero where /proc is unavailable.
pub fn cpu_time() -> (Duration, Duration) {
    let ticks = |field: Option<&str>| {
        Duration::from_millis(field.and_then(|f| f.parse::<u64>().ok()).unwrap_or(0) * 10)
    };
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (Duration::ZERO, Duration::ZERO);
    };
    // Fields after the command name, which is in parentheses and may hold spaces: utime and
    // stime are the 14th and 15th fields of the line, so the 12th and 13th after the name.
    let mut fields = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(11);
    (ticks(fields.next()), ticks(fields.next()))
}
