//! Progress of long runs, for frontends that show it (a bar in a terminal
//! or notebook). The core reports what it is doing (`stage`), how far it
//! got (`done`) and, when known, of how much (`total`); a frontend that
//! wants the reports installs a sink around the call with [`with_sink`].
//! Without a sink a report costs a thread-local lookup. Reports reach the
//! sink at most every [`INTERVAL`], and always at the end of a stage.
//!
//! The sink is thread-local: the core runs a call on the caller's thread,
//! and a frontend's callback (which may need an interpreter lock) is never
//! called from elsewhere.

use std::cell::RefCell;
use std::time::{Duration, Instant};

/// Shortest time between two reports of the same stage.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// Receives (stage, done, total).
pub type Sink = Box<dyn FnMut(&str, u64, Option<u64>)>;

struct Installed {
    sink: Sink,
    last: Option<(&'static str, Instant)>,
}

thread_local! {
    static SINK: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

/// Run `f` with `sink` receiving its progress reports.
pub fn with_sink<R>(sink: Sink, f: impl FnOnce() -> R) -> R {
    struct Uninstall(Option<Installed>);
    impl Drop for Uninstall {
        fn drop(&mut self) {
            let previous = self.0.take();
            SINK.with(|s| *s.borrow_mut() = previous);
        }
    }
    let previous = SINK.with(|s| s.borrow_mut().replace(Installed { sink, last: None }));
    let _restore = Uninstall(previous);
    f()
}

/// Report progress of `stage`: `done` of `total` (`None`: not known ahead).
pub fn report(stage: &'static str, done: u64, total: Option<u64>) {
    SINK.with(|s| {
        // A sink that reports again from inside its own call is ignored.
        let Ok(mut slot) = s.try_borrow_mut() else { return };
        let Some(installed) = slot.as_mut() else { return };
        let now = Instant::now();
        let finished = total == Some(done);
        let due = match installed.last {
            Some((last_stage, at)) => last_stage != stage || now.duration_since(at) >= INTERVAL || finished,
            None => true,
        };
        if due {
            installed.last = Some((stage, now));
            (installed.sink)(stage, done, total);
        }
    });
}

/// Width of the bar in [`line`].
const BAR_WIDTH: u64 = 24;

/// The one-line bar the Python and R packages draw for a report:
/// `amparo: reading rows [######..................] 1,200/4,800`, or
/// `amparo: reading rows 1,200` when the total is not known.
pub fn line(stage: &str, done: u64, total: Option<u64>) -> String {
    match total {
        Some(total) if total > 0 => {
            let filled = (BAR_WIDTH * done.min(total) / total) as usize;
            let bar = format!("{}{}", "#".repeat(filled), ".".repeat(BAR_WIDTH as usize - filled));
            format!("amparo: {stage} [{bar}] {}/{}", thousands(done), thousands(total))
        }
        _ => format!("amparo: {stage} {}", thousands(done)),
    }
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn reports_reach_the_sink_throttled_and_only_inside_with_sink() {
        let seen: Rc<RefCell<Vec<(String, u64, Option<u64>)>>> = Rc::default();
        let sink_seen = seen.clone();
        report("outside", 1, None);
        with_sink(Box::new(move |stage, done, total| sink_seen.borrow_mut().push((stage.to_owned(), done, total))), || {
            for i in 0..=1000 {
                report("counting", i, Some(1000));
            }
            report("next", 1, None);
        });
        report("after", 1, None);
        let seen = seen.borrow();
        // The first report, the last of the stage (done == total), the next stage; nothing outside.
        assert_eq!(seen.first(), Some(&("counting".to_owned(), 0, Some(1000))));
        assert!(seen.contains(&("counting".to_owned(), 1000, Some(1000))));
        assert_eq!(seen.last(), Some(&("next".to_owned(), 1, None)));
        assert!(seen.len() < 20, "throttled: {}", seen.len());
        assert!(seen.iter().all(|(s, _, _)| s != "outside" && s != "after"));
    }

    #[test]
    fn the_line_shows_the_share_done_with_thousands_separated() {
        assert_eq!(line("reading rows", 1_200, Some(4_800)), "amparo: reading rows [######..................] 1,200/4,800");
        assert_eq!(line("reading rows", 1_234_567, None), "amparo: reading rows 1,234,567");
        assert_eq!(line("auditing", 9, Some(9)), "amparo: auditing [########################] 9/9");
        assert_eq!(line("auditing", 0, Some(0)), "amparo: auditing 0");
    }
}
