//! Derived files: what Signpost makes from the downloaded models and the
//! knowledge base and keeps between runs (re-quantized language models,
//! converted Whisper models, the embedded triage example bank, passage
//! vectors).
//!
//! Every derived file is
//! - made by one process at a time: a lock file beside it serialises makers,
//!   so several processes starting together on a new server do the work once
//!   and all load the same good file;
//! - written whole or not at all: into a uniquely named temporary file in the
//!   same folder, flushed to disk, checked, then renamed into place;
//! - checked before every use: a file that fails its check (truncated,
//!   corrupt, or made by another version of the code) is never trusted; it
//!   is made again, with a warning.
//!
//! Each kind's file name carries a version stamp of the code that makes it,
//! so a change to the conversion gets a new file instead of a stale one.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The folder for derived files: `SIGNPOST_DERIVED_DIR` if set, else
/// `derived` inside the model cache.
pub fn default_dir(model_cache: &Path) -> PathBuf {
    match std::env::var_os("SIGNPOST_DERIVED_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => model_cache.join("derived"),
    }
}

/// Returns what `check` reads from `path`, first making the file with `make`
/// when it is missing or fails its check. `what` names the file in messages
/// ("the re-quantized model", ...).
///
/// `make` writes the whole file into the writer it is given; the result is
/// checked with `check` before it replaces anything, so a maker that writes
/// a bad file is an error, not a poisoned cache.
pub fn ensure<T>(
    path: &Path,
    what: &str,
    check: impl Fn(&Path) -> Result<T>,
    make: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<T> {
    if path.exists() {
        if let Ok(found) = check(path) {
            return Ok(found);
        }
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let _lock = lock(path)?;
    // Another process may have made it while this one waited for the lock.
    if path.exists() {
        match check(path) {
            Ok(found) => return Ok(found),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %format!("{e:#}"), "{what} cannot be used; making it again");
                std::fs::remove_file(path)
                    .with_context(|| format!("cannot remove the unusable {}", path.display()))?;
            }
        }
    }
    remove_leftovers(path);
    write_atomic(path, make)?;
    check(path).with_context(|| {
        format!(
            "{what} was just made at {} but does not pass its own check",
            path.display()
        )
    })
}

/// Writes `path` whole or not at all: `make` writes into a unique temporary
/// file in the same folder, which is flushed to disk and renamed into place.
pub fn write_atomic(
    path: &Path,
    make: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let (file, tmp_path) = tmp.into_parts();
    let mut w = BufWriter::new(file);
    make(&mut w)?;
    let file = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
    file.sync_all()
        .with_context(|| format!("cannot flush {} to disk", path.display()))?;
    drop(file);
    tmp_path.persist(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot move the new file into {}: {}",
            path.display(),
            e.error
        )
    })?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Holds the maker's lock for `path` until dropped.
struct Lock(File);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn lock(path: &Path) -> Result<Lock> {
    let lock_path = sibling(path, ".lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open the lock file {}", lock_path.display()))?;
    f.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    Ok(Lock(f))
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.",
        path.file_name().unwrap_or_default().to_string_lossy()
    )
}

/// Removes temporary files a killed maker of `path` left behind. Only called
/// under the lock, when no other maker of this file is writing.
fn remove_leftovers(path: &Path) {
    let (Some(dir), prefix) = (path.parent(), temp_prefix(path)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A short hex digest of `parts`, for naming a derived file after what it
/// was made from.
pub fn key(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What identifies a source file cheaply: its size and modification time.
pub fn source_stamp(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let secs = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{}-{secs}", meta.len()))
}

// ---------------------------------------------------------------------------
// Vector files: a header, then rows of little-endian f32.

const VECTORS_MAGIC: &[u8; 8] = b"SPVECS\0\0";
/// Bump when the vector file layout changes.
const VECTORS_VERSION: u32 = 2;
const VECTORS_HEADER: usize = 8 + 4 + 4 + 4 + 32;

/// Writes vectors of `dims` values each, stamped with `key` (the digest of
/// what they were made from).
pub fn write_vectors(w: &mut impl Write, key: &[u8; 32], vectors: &[Vec<f32>]) -> Result<()> {
    let dims = vectors.first().map_or(0, Vec::len);
    w.write_all(VECTORS_MAGIC)?;
    w.write_all(&VECTORS_VERSION.to_le_bytes())?;
    w.write_all(&(vectors.len() as u32).to_le_bytes())?;
    w.write_all(&(dims as u32).to_le_bytes())?;
    w.write_all(key)?;
    for v in vectors {
        if v.len() != dims {
            bail!("vectors of different lengths ({} and {dims})", v.len());
        }
        for x in v {
            w.write_all(&x.to_le_bytes())?;
        }
    }
    Ok(())
}

/// Reads a vector file, checking its header, stamp, shape and length.
pub fn read_vectors(path: &Path, key: &[u8; 32], n: usize, dims: usize) -> Result<Vec<Vec<f32>>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len() as usize;
    let want = VECTORS_HEADER + n * dims * 4;
    if len != want {
        bail!("{len} bytes where {want} were expected");
    }
    let mut header = [0u8; VECTORS_HEADER];
    f.read_exact(&mut header)?;
    if &header[..8] != VECTORS_MAGIC {
        bail!("not a Signpost vector file");
    }
    let u32_at =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if u32_at(8) != VECTORS_VERSION {
        bail!("made by another version of Signpost");
    }
    if u32_at(12) as usize != n || u32_at(16) as usize != dims {
        bail!(
            "holds {} vectors of {} where {n} of {dims} were expected",
            u32_at(12),
            u32_at(16)
        );
    }
    if &header[20..52] != key {
        bail!("made from different texts or another model");
    }
    let mut bytes = vec![0u8; n * dims * 4];
    f.read_exact(&mut bytes)?;
    Ok(bytes
        .chunks_exact(dims.max(1) * 4)
        .take(n)
        .map(|row| {
            row.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> Vec<Vec<f32>> {
        vec![vec![1.0, 2.0, 3.0], vec![-1.5, 0.0, 4.25]]
    }

    #[test]
    fn a_derived_file_is_made_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("v.bin");
        let key = [7u8; 32];
        let mut made = 0;
        let check = |p: &Path| read_vectors(p, &key, 2, 3);
        let got = ensure(&path, "test vectors", check, |w| {
            made += 1;
            write_vectors(w, &key, &vectors())
        })
        .unwrap();
        assert_eq!(got, vectors());
        let again = ensure(&path, "test vectors", check, |_| panic!("must not remake")).unwrap();
        assert_eq!(again, vectors());
        assert_eq!(made, 1);
        // Only the file and its lock remain: no temporary files.
        let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["v.bin", "v.bin.lock"]);
    }

    #[test]
    fn a_truncated_or_foreign_file_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        let key = [1u8; 32];
        let check = |p: &Path| read_vectors(p, &key, 2, 3);
        let make = |w: &mut BufWriter<File>| write_vectors(w, &key, &vectors());
        ensure(&path, "test vectors", check, make).unwrap();
        let whole = std::fs::read(&path).unwrap();

        // Cut short, as a crash in an older version could leave it.
        std::fs::write(&path, &whole[..whole.len() - 5]).unwrap();
        assert!(read_vectors(&path, &key, 2, 3).is_err());
        assert_eq!(
            ensure(&path, "test vectors", check, make).unwrap(),
            vectors()
        );

        // Made from other texts: same size, another stamp.
        let mut other = whole.clone();
        other[25] ^= 0xff;
        std::fs::write(&path, &other).unwrap();
        let err = read_vectors(&path, &key, 2, 3).unwrap_err();
        assert!(err.to_string().contains("different texts"), "{err}");
        assert_eq!(
            ensure(&path, "test vectors", check, make).unwrap(),
            vectors()
        );
        assert_eq!(std::fs::read(&path).unwrap(), whole);
    }

    #[test]
    fn a_maker_that_writes_a_bad_file_is_an_error_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        let key = [2u8; 32];
        let err = ensure(
            &path,
            "test vectors",
            |p| read_vectors(p, &key, 2, 3),
            |w| Ok(w.write_all(b"nonsense")?),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("does not pass its own check"),
            "{err:#}"
        );
        // A failed maker leaves no temporary file behind.
        let err = ensure(
            &dir.path().join("w.bin"),
            "test vectors",
            |p| read_vectors(p, &key, 2, 3),
            |_| bail!("out of memory"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("out of memory"));
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn threads_racing_on_an_empty_folder_all_get_the_same_good_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        let key = [3u8; 32];
        let made = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let got = ensure(
                        &path,
                        "test vectors",
                        |p| read_vectors(p, &key, 2, 3),
                        |w| {
                            made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            // A slow maker: the others must wait, not interleave.
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            write_vectors(w, &key, &vectors())
                        },
                    )
                    .unwrap();
                    assert_eq!(got, vectors());
                });
            }
        });
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn leftovers_of_a_killed_maker_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        std::fs::write(dir.path().join(".v.bin.abc123.tmp"), b"half").unwrap();
        let key = [4u8; 32];
        ensure(
            &path,
            "test vectors",
            |p| read_vectors(p, &key, 2, 3),
            |w| write_vectors(w, &key, &vectors()),
        )
        .unwrap();
        assert!(!dir.path().join(".v.bin.abc123.tmp").exists());
    }
}
