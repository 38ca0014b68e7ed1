//! Work split between this thread and one other: the machines Amparo is
//! measured on have two cores, and HiGHS models and random generators must
//! stay on the thread that made them, so each item's work runs whole on one
//! thread.

use crate::err;
use crate::error::Fallible;

/// `work` on every item, the items at even positions on this thread and
/// those at odd positions on another, the results in item order (so a
/// seeded run gives the same results however the threads interleave).
/// `what` names the work in the error when the other thread panics.
pub(crate) fn on_two_threads<T: Send, R: Send>(items: Vec<T>, work: &(dyn Fn(T) -> Fallible<R> + Sync), what: &str) -> Fallible<Vec<R>> {
    let count = items.len();
    if count < 2 {
        return items.into_iter().map(work).collect();
    }
    let (mut first, mut second) = (Vec::with_capacity(count / 2 + 1), Vec::with_capacity(count / 2));
    for (k, item) in items.into_iter().enumerate() {
        if k % 2 == 0 { first.push(item) } else { second.push(item) }
    }
    let (mine, theirs) = std::thread::scope(|scope| {
        let other = scope.spawn(|| second.into_iter().map(work).collect::<Fallible<Vec<R>>>());
        let mine = first.into_iter().map(work).collect::<Fallible<Vec<R>>>();
        (mine, other.join())
    });
    let (mine, theirs) = (mine?, theirs.map_err(|_| err!(Infeasible, "{what} failed on its second thread"))??);
    let (mut mine, mut theirs) = (mine.into_iter(), theirs.into_iter());
    Ok((0..count).map(|k| if k % 2 == 0 { mine.next() } else { theirs.next() }.expect("one result per item")).collect())
}
