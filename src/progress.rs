//! Progress for long work: a bar on a terminal, plain lines otherwise (CI, logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Reports progress of `total` steps of one named task.
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    done: u64,
    last_percent_printed: u64,
    quiet: bool,
}

impl Progress {
    /// A bar on a terminal; in CI or a pipe, a plain line every 25%.
    pub fn new(label: &str, total: u64) -> Self {
        let quiet = std::env::var_os("SIGNPOST_QUIET").is_some();
        let bar = (!quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none())
            .then(|| {
                let b = ProgressBar::new(total);
                b.set_style(
                    ProgressStyle::with_template("{msg:>14} [{bar:30}] {pos}/{len} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                b.set_message(label.to_string());
                b
            });
        Self {
            bar,
            label: label.to_string(),
            total,
            done: 0,
            last_percent_printed: 0,
            quiet,
        }
    }

    pub fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(b) => b.inc(n),
            None if !self.quiet && self.total > 0 => {
                let pct = self.done * 100 / self.total;
                if pct >= self.last_percent_printed + 25 || self.done == self.total {
                    self.last_percent_printed = pct - pct % 25;
                    eprintln!("{}: {}/{} ({}%)", self.label, self.done, self.total, pct);
                }
            }
            None => {}
        }
    }

    pub fn finish(self, message: &str) {
        match self.bar {
            Some(b) => b.finish_with_message(message.to_string()),
            None if !self.quiet => eprintln!("{}: {}", self.label, message),
            None => {}
        }
    }
}
