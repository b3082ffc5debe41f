//! The `compile` scenario: how long a domain of 50 aggregates, 100 events and 50 event handlers
//! takes to build with the framework's macros, against the same structs with serde derives only.
//!
//! A third crate, `codec_domain`, adds to the serde-only one what the framework necessarily
//! instantiates per event: a JSON encoder and decoder (so the durable stores can write events and
//! read them back by type name). Derives alone are generic and never reach code generation; this
//! row separates the cost of that codec from the cost of the rest of the macros' output.
//!
//! Both crates are generated into `target/bench-compile/` as one workspace sharing a target
//! directory. Dependencies are built once first; then each crate is cleaned (`cargo clean -p`) and
//! rebuilt, alternately, so a measurement is the crate's own clean build: macro expansion, type
//! checking and code generation of the domain, not the dependencies' build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::measure::{Row, Samples};

const AGGREGATES: usize = 50;
const ROUNDS: usize = 3;

pub fn compile() -> Vec<Row> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("bench-compile");
    if let Err(e) = generate(&root) {
        return vec![Row::note("compile", &format!("could not generate: {e}"))];
    }
    // Warm the dependencies (domain-core, serde, ...) so only the generated crates are timed.
    for package in ["framework_domain", "serde_domain", "codec_domain"] {
        if let Err(e) = build(&root, package) {
            return vec![Row::note("compile", &format!("build failed: {e}"))];
        }
    }
    let mut framework = Samples::with_capacity(ROUNDS);
    let mut serde_only = Samples::with_capacity(ROUNDS);
    let mut codec = Samples::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        for (package, samples) in [
            ("serde_domain", &mut serde_only),
            ("codec_domain", &mut codec),
            ("framework_domain", &mut framework),
        ] {
            match clean_build(&root, package) {
                Ok(elapsed) => samples.push(elapsed),
                Err(e) => return vec![Row::note("compile", &format!("build failed: {e}"))],
            }
        }
    }
    let label = format!(
        "compile: {AGGREGATES} aggregates, {} events, {AGGREGATES} handlers",
        2 * AGGREGATES
    );
    vec![
        Row::seconds(&format!("{label} (serde derives only)"), &serde_only, None),
        Row::seconds(
            &format!("{label} (serde derives + JSON codec per event)"),
            &codec,
            Some(&serde_only),
        ),
        Row::seconds(&label, &framework, Some(&serde_only)),
        Row::seconds(
            &format!("{label}, ratio to serde + JSON codec"),
            &framework,
            Some(&codec),
        ),
    ]
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(root)
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_TARGET_DIR", root.join("target"));
    command
}

fn build(root: &Path, package: &str) -> Result<(), String> {
    let output = cargo(root)
        .args(["build", "--offline", "--quiet", "-p", package])
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn clean_build(root: &Path, package: &str) -> Result<Duration, String> {
    let clean = cargo(root)
        .args(["clean", "--offline", "--quiet", "-p", package])
        .output()
        .map_err(|e| e.to_string())?;
    if !clean.status.success() {
        return Err(String::from_utf8_lossy(&clean.stderr).into_owned());
    }
    let start = Instant::now();
    build(root, package)?;
    Ok(start.elapsed())
}

/// Writes the workspace: `framework_domain` (the macros) and `serde_domain` (serde derives).
fn generate(root: &Path) -> std::io::Result<()> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let domain_core: PathBuf = workspace.join("domain-core").canonicalize()?;
    std::fs::create_dir_all(root.join("framework_domain/src"))?;
    std::fs::create_dir_all(root.join("serde_domain/src"))?;
    std::fs::create_dir_all(root.join("codec_domain/src"))?;
    // The main workspace's lock file pins the same dependency versions, offline.
    std::fs::copy(workspace.join("Cargo.lock"), root.join("Cargo.lock"))?;
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"framework_domain\", \"serde_domain\", \"codec_domain\"]\n\n\
         [profile.dev.package.\"*\"]\nopt-level = 1\n",
    )?;
    std::fs::write(
        root.join("framework_domain/Cargo.toml"),
        format!(
            "[package]\nname = \"framework_domain\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ndomain-core = {{ path = {:?} }}\n",
            domain_core.display().to_string()
        ),
    )?;
    std::fs::write(
        root.join("serde_domain/Cargo.toml"),
        "[package]\nname = \"serde_domain\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n",
    )?;
    std::fs::write(
        root.join("codec_domain/Cargo.toml"),
        "[package]\nname = \"codec_domain\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n",
    )?;
    std::fs::write(root.join("framework_domain/src/lib.rs"), framework_source())?;
    std::fs::write(root.join("serde_domain/src/lib.rs"), serde_source())?;
    std::fs::write(root.join("codec_domain/src/lib.rs"), codec_source())?;
    Ok(())
}

fn framework_source() -> String {
    let mut out =
        String::from("//! Generated by the `compile` benchmark.\nuse domain_core::prelude::*;\n");
    for i in 0..AGGREGATES {
        let _ = write!(
            out,
            r#"
#[aggregate]
pub struct Agg{i} {{
    #[field(max_length = 100)]
    pub name: String,
    pub count: i64,
    pub note: Option<String>,
}}

#[event(part_of = Agg{i})]
pub struct Agg{i}Created {{
    pub name: String,
}}

#[event(part_of = Agg{i})]
pub struct Agg{i}Renamed {{
    pub name: String,
    pub count: i64,
}}

#[derive(Default)]
pub struct Agg{i}Reactions;

#[event_handler(part_of = Agg{i})]
impl Agg{i}Reactions {{
    #[handle(Agg{i}Created)]
    fn on_created(&self, event: &Agg{i}Created) {{
        let _ = &event.name;
    }}

    #[handle(Agg{i}Renamed)]
    fn on_renamed(&self, event: &Agg{i}Renamed) {{
        let _ = event.count;
    }}
}}
"#
        );
    }
    out
}

fn serde_source() -> String {
    let mut out = String::from(
        "//! Generated by the `compile` benchmark.\nuse serde::{Deserialize, Serialize};\n",
    );
    for i in 0..AGGREGATES {
        let _ = write!(
            out,
            r#"
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agg{i} {{
    pub id: String,
    pub name: String,
    pub count: i64,
    pub note: Option<String>,
}}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agg{i}Created {{
    pub name: String,
}}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agg{i}Renamed {{
    pub name: String,
    pub count: i64,
}}

#[derive(Default)]
pub struct Agg{i}Reactions;

impl Agg{i}Reactions {{
    pub fn on_created(&self, event: &Agg{i}Created) {{
        let _ = &event.name;
    }}

    pub fn on_renamed(&self, event: &Agg{i}Renamed) {{
        let _ = event.count;
    }}
}}
"#
        );
    }
    out
}

/// The serde-only crate plus, per event, the encoder and decoder the framework registers.
fn codec_source() -> String {
    let mut out = serde_source();
    for i in 0..AGGREGATES {
        for event in ["Created", "Renamed"] {
            let lower = event.to_lowercase();
            let _ = write!(
                out,
                r#"
pub fn encode_agg{i}_{lower}(event: &Agg{i}{event}) -> serde_json::Result<serde_json::Value> {{
    serde_json::to_value(event)
}}

pub fn decode_agg{i}_{lower}(json: &str) -> serde_json::Result<Agg{i}{event}> {{
    serde_json::from_str(json)
}}
"#
            );
        }
    }
    out
}
