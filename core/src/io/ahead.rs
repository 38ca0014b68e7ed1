//! Batches made on a second thread, a few ahead of the thread that uses
//! them: the input's Parquet or CSV decoding runs beside the aggregation, and
//! an output's rows are built beside the encoding that writes them. On B5
//! stress (10^8 records, 109.8 M cells) each side is tens of seconds of work
//! that would otherwise wait for the other.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, Schema};

/// Batches waiting in the channel: enough to even out uneven batches,
/// few enough that memory holds a handful, not the table.
const AHEAD: usize = 2;

/// `None` ends the stream; a channel closed without it means the producing
/// thread panicked.
type Message = Option<Result<RecordBatch, ArrowError>>;

/// The consuming end: a reader of the batches the other thread sends.
pub struct Ahead {
    schema: Arc<Schema>,
    batches: Receiver<Message>,
    ended: bool,
}

fn channel(schema: Arc<Schema>) -> (SyncSender<Message>, Ahead) {
    let (send, batches) = sync_channel(AHEAD);
    (send, Ahead { schema, batches, ended: false })
}

/// Move every batch of `batches` into `send`, stopping at the first error or
/// when the consumer has gone (it stopped on an error of its own).
fn pump(batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>, send: SyncSender<Message>) {
    for batch in batches {
        let failed = batch.is_err();
        if send.send(Some(batch)).is_err() || failed {
            return;
        }
    }
    let _ = send.send(None);
}

impl Iterator for Ahead {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        match self.batches.recv() {
            Ok(Some(batch)) => {
                // The producer stops at an error: it is the stream's last item.
                self.ended = batch.is_err();
                Some(batch)
            }
            Ok(None) => {
                self.ended = true;
                None
            }
            Err(_) => {
                self.ended = true;
                Some(Err(ArrowError::ExternalError("the thread making the batches stopped before the last one (an internal error)".into())))
            }
        }
    }
}

impl RecordBatchReader for Ahead {
    fn schema(&self) -> Arc<Schema> {
        self.schema.clone()
    }
}

/// `reader`'s batches, read on a thread of their own as the caller takes them.
pub fn read_ahead(reader: super::BatchReader) -> super::BatchReader {
    let (send, ahead) = channel(reader.schema());
    std::thread::spawn(move || pump(reader, send));
    Box::new(ahead)
}

/// Run `consume` on `reader`'s batches while a scoped thread makes them
/// (the reader may borrow, e.g. [`crate::Protected::record_batches`]).
pub fn with_batches_ahead<R, T>(reader: R, consume: impl FnOnce(&mut dyn RecordBatchReader) -> T) -> T
where
    R: RecordBatchReader + Send,
{
    std::thread::scope(|scope| {
        let (send, mut ahead) = channel(reader.schema());
        scope.spawn(move || pump(reader, send));
        // `ahead` is dropped before the scope waits for the thread: a
        // consumer that stopped early unblocks it.
        consume(&mut ahead)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, RecordBatchIterator};
    use arrow_schema::{DataType, Field};

    fn batches(n: i64, fail_at: Option<i64>) -> RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, ArrowError>>> {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let items: Vec<_> = (0..n)
            .map(|i| match fail_at {
                Some(f) if f == i => Err(ArrowError::ComputeError(format!("bad batch {i}"))),
                _ => Ok(RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![i; 3]))]).unwrap()),
            })
            .collect();
        RecordBatchIterator::new(items.into_iter(), schema)
    }

    fn firsts(reader: &mut dyn RecordBatchReader) -> Vec<Result<i64, String>> {
        reader
            .map(|b| b.map(|b| b.column(0).as_any().downcast_ref::<Int64Array>().unwrap().value(0)).map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn batches_arrive_in_order_and_errors_end_the_stream() {
        assert_eq!(firsts(&mut *read_ahead(Box::new(batches(50, None)))), (0..50).map(Ok).collect::<Vec<_>>());
        let got = with_batches_ahead(batches(50, Some(7)), firsts);
        assert_eq!(got.len(), 8, "the error is the last item: {got:?}");
        assert!(got[7].as_ref().unwrap_err().contains("bad batch 7"));
        assert_eq!(firsts(&mut *read_ahead(Box::new(batches(0, None)))), vec![]);
    }

    #[test]
    fn a_consumer_that_stops_early_does_not_hang_the_producer() {
        let taken = with_batches_ahead(batches(1000, None), |r| r.take(3).count());
        assert_eq!(taken, 3);
    }

    #[test]
    fn a_producer_that_panics_is_an_error_not_a_short_table() {
        struct Panics(Arc<Schema>, usize);
        impl Iterator for Panics {
            type Item = Result<RecordBatch, ArrowError>;
            fn next(&mut self) -> Option<Self::Item> {
                self.1 += 1;
                assert!(self.1 < 3, "the producer's own bug");
                Some(Ok(RecordBatch::new_empty(self.0.clone())))
            }
        }
        impl RecordBatchReader for Panics {
            fn schema(&self) -> Arc<Schema> {
                self.0.clone()
            }
        }
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let got: Vec<_> = read_ahead(Box::new(Panics(schema, 0))).collect();
        assert_eq!(got.len(), 3);
        assert!(got[2].as_ref().unwrap_err().to_string().contains("stopped before the last one"));
    }
}
