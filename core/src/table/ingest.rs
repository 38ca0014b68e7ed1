//! Building a cube from Arrow record batches, one batch at a time.
//!
//! Rows become cells in two steps. While batches stream in, each dimension's
//! codes are interned to small integers and the row's cell is a packed key in a
//! hash map of counts, so memory grows with the number of distinct cells, not
//! with the number of rows. When the input ends, the hierarchies are built (or
//! checked) from the codes seen, and the counts are placed in a dense cube
//! whose margins are then computed.
//!
//! Dimension columns may be any Arrow string type (polars sends `Utf8View`,
//! pandas `LargeUtf8`, pyarrow `Utf8`), dictionary-encoded strings
//! (categoricals, factors), integers or booleans. Counts may be integers,
//! whole floats, or text holding whole numbers (CSV is read as text so that
//! codes such as `05001` keep their leading zero).
//!
//! The per-cell sums can be written out as a *partial aggregate*
//! ([`CubeBuilder::partials`]) and merged later by a builder made with
//! [`CubeBuilder::merging`]: every quantity kept per cell (count, records,
//! the three largest contributions, the record keys' sum modulo 1) merges
//! associatively, so a table split into pieces aggregated apart (Spark
//! partitions, files on different machines) gives the same cube, bit for bit,
//! as the whole table read in one pass.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema};
use rustc_hash::FxHashMap;

use super::columns::{intern_column, read_counts, read_record_keys, Interner};
use crate::error::Fallible;
use crate::hierarchy::{CodeOrigin, Hierarchy};
use crate::policy::{CheckedPolicy, InputKind};
use crate::table::cube::{Contributions, Cube, Dimension};
use crate::fail;

struct DimColumn {
    name: String,
    column: String,
    index: usize,
}

/// Columns a partial aggregate adds to the dimension columns.
pub const PARTIAL_COUNT: &str = "_amparo_count";
pub const PARTIAL_RECORDS: &str = "_amparo_records";
pub const PARTIAL_LARGEST: [&str; 3] = ["_amparo_largest_1", "_amparo_largest_2", "_amparo_largest_3"];
/// The record keys' sum modulo 1, in the fixed point of [`crate::table::Key`] (0 to 2^32 - 1).
pub const PARTIAL_KEY: &str = "_amparo_key";

/// A count summed over the rows of one cell, and the first row that fed it.
#[derive(Clone, Copy)]
struct CellCount {
    value: i64,
    first_row: u64,
    /// Magnitude tables: contributing records and the three largest contributions.
    records: i64,
    largest: [i64; 3],
    /// Cell key method: the sum of the records' keys (fixed point).
    key: u32,
}

impl CellCount {
    fn merge(&mut self, other: &CellCount, row: u64) -> Fallible<()> {
        self.records += other.records;
        self.key = self.key.wrapping_add(other.key);
        if other.largest[0] > self.largest[2] {
            self.largest = crate::table::cube::merge_largest(self.largest, other.largest);
        }
        match self.value.checked_add(other.value) {
            Some(v) => self.value = v,
            None => fail!(Data, "row {row}: a cell's count overflows a 64-bit integer; the weights are implausibly large"),
        }
        Ok(())
    }
}

/// What a row of the input is.
enum Rows {
    /// A record (microdata) or a cell (aggregated input), as the policy says.
    Input,
    /// A cell's sums from part of the input (see [`CubeBuilder::partials`]):
    /// the columns of records, the three largest, and the key sum.
    Partials { records: usize, largest: [usize; 3], key: usize },
}

/// Streams record batches into a cube.
pub struct CubeBuilder<'p> {
    policy: &'p CheckedPolicy,
    dims: Vec<DimColumn>,
    count_column: Option<(String, usize)>,
    interners: Vec<Interner>,
    cells: FxHashMap<u128, CellCount>,
    bits: u32,
    rows: u64,
    ids: Vec<Vec<u32>>,
    counts: Vec<i64>,
    /// The record key column (cell key method), and this batch's keys.
    key_column: Option<(String, usize)>,
    keys: Vec<u32>,
    rows_are: Rows,
    /// A partial aggregate's columns, this batch's values.
    partial_columns: Vec<Vec<i64>>,
}

fn column_index(schema: &Schema, column: &str, role: &str) -> Fallible<usize> {
    if let Ok(i) = schema.index_of(column) {
        return Ok(i);
    }
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let near = crate::suggest::suggest_code(column, names.iter().copied());
    fail!(
        Schema,
        "the policy's {role} reads column `{column}`, which the input does not have{near}; the input's columns are: {}. \
         Rename the column in the data or set the column name in the policy",
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )
}

fn check_dim_type(dt: &DataType, column: &str) -> Fallible<()> {
    let ok = match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean => true,
        dt if dt.is_integer() => true,
        DataType::Dictionary(_, v) => matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) || v.is_integer(),
        _ => false,
    };
    if !ok {
        fail!(Schema, "dimension column `{column}` has type {dt}, but codes must be text, integers or categories; convert the column to text");
    }
    Ok(())
}

fn check_count_type(dt: &DataType, column: &str) -> Fallible<()> {
    let ok = match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Float32 | DataType::Float64 => true,
        dt if dt.is_integer() => true,
        _ => false,
    };
    if !ok {
        fail!(Schema, "count column `{column}` has type {dt}, but counts must be whole numbers; convert the column to integers");
    }
    Ok(())
}

fn dimension_columns(policy: &CheckedPolicy, schema: &Schema) -> Fallible<Vec<DimColumn>> {
    let mut dims = Vec::with_capacity(policy.dimensions.len());
    for d in &policy.dimensions {
        let index = column_index(schema, &d.column, &format!("dimension `{}`", d.name))?;
        check_dim_type(schema.field(index).data_type(), &d.column)?;
        dims.push(DimColumn { name: d.name.clone(), column: d.column.clone(), index });
    }
    Ok(dims)
}

impl<'p> CubeBuilder<'p> {
    /// Check the input's columns against the policy before any row is read.
    pub fn new(policy: &'p CheckedPolicy, schema: &Schema) -> Fallible<CubeBuilder<'p>> {
        let dims = dimension_columns(policy, schema)?;
        let count = match policy.input_kind() {
            InputKind::Aggregated => policy.file.input.count.as_deref().map(|c| (c, "[input] count")),
            InputKind::Microdata => policy.file.input.weight.as_deref().map(|c| (c, "[input] weight")),
        };
        let count = match (policy.input_kind(), policy.file.input.magnitude.as_deref()) {
            (InputKind::Microdata, Some(m)) => Some((m, "[input] magnitude")),
            _ => count,
        };
        let count_column = match count {
            Some((c, role)) => {
                let i = column_index(schema, c, role)?;
                check_count_type(schema.field(i).data_type(), c)?;
                Some((c.to_owned(), i))
            }
            None => None,
        };
        let key_column = match policy.file.input.record_key.as_deref() {
            Some(c) => {
                let i = column_index(schema, c, "[input] record_key")?;
                let data_type = schema.field(i).data_type();
                let text = matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
                match policy.file.input.record_key_bits {
                    None if !(text || matches!(data_type, DataType::Float64 | DataType::Float32)) => fail!(
                        Schema,
                        "record key column `{c}` is {data_type}, but record keys are numbers in [0, 1) (floating point); \
                         for whole-number keys below 2^k set [input] record_key_bits = k"
                    ),
                    Some(bits) if !(text || data_type.is_integer()) => fail!(
                        Schema,
                        "record key column `{c}` is {data_type}, but [input] record_key_bits = {bits} says record keys are whole numbers below 2^{bits}; \
                         for keys in [0, 1) remove record_key_bits"
                    ),
                    _ => {}
                }
                Some((c.to_owned(), i))
            }
            None => None,
        };
        Ok(CubeBuilder::with_columns(policy, dims, count_column, key_column, Rows::Input))
    }

    /// A builder that merges partial aggregates (made by [`Self::partials`]
    /// with the same policy) instead of reading rows of the input.
    pub fn merging(policy: &'p CheckedPolicy, schema: &Schema) -> Fallible<CubeBuilder<'p>> {
        let index = |column: &str| -> Fallible<usize> {
            let Ok(i) = schema.index_of(column) else {
                fail!(
                    Schema,
                    "the input has no column `{column}`, so it is not a partial aggregate (made by aggregate_partials); \
                     give the records or the table itself to protect instead"
                )
            };
            if !schema.field(i).data_type().is_integer() {
                fail!(Schema, "column `{column}` of a partial aggregate has type {}, not integers; it was not made by aggregate_partials", schema.field(i).data_type());
            }
            Ok(i)
        };
        let rows_are = Rows::Partials {
            records: index(PARTIAL_RECORDS)?,
            largest: [index(PARTIAL_LARGEST[0])?, index(PARTIAL_LARGEST[1])?, index(PARTIAL_LARGEST[2])?],
            key: index(PARTIAL_KEY)?,
        };
        let count = index(PARTIAL_COUNT)?;
        // The policy's count, weight and key columns were summed into the
        // partial columns; the dimension columns are checked as any input's.
        let dims = dimension_columns(policy, schema)?;
        Ok(CubeBuilder::with_columns(policy, dims, Some((PARTIAL_COUNT.to_owned(), count)), None, rows_are))
    }

    fn with_columns(
        policy: &'p CheckedPolicy,
        dims: Vec<DimColumn>,
        count_column: Option<(String, usize)>,
        key_column: Option<(String, usize)>,
        rows_are: Rows,
    ) -> CubeBuilder<'p> {
        let n = dims.len() as u32;
        CubeBuilder {
            policy,
            interners: (0..dims.len()).map(|_| Interner::default()).collect(),
            dims,
            count_column,
            cells: FxHashMap::default(),
            bits: (128 / n).min(32),
            rows: 0,
            ids: Vec::new(),
            counts: Vec::new(),
            key_column,
            keys: Vec::new(),
            rows_are,
            partial_columns: Vec::new(),
        }
    }

    /// Add one batch of rows.
    pub fn push(&mut self, batch: &RecordBatch) -> Fallible<()> {
        let n = batch.num_rows();
        let first = self.rows + 1;
        self.ids.resize_with(self.dims.len(), Vec::new);
        for (d, dim) in self.dims.iter().enumerate() {
            let out = &mut self.ids[d];
            out.clear();
            intern_column(batch.column(dim.index), &dim.column, first, &mut self.interners[d], out)?;
            if let Some(&max) = out.iter().max() {
                if self.bits < 32 && max >= (1u32 << self.bits) {
                    fail!(
                        Policy,
                        "dimension `{}` has more than {} distinct codes, more than a {}-dimension table can hold; use fewer dimensions",
                        dim.name,
                        1u64 << self.bits,
                        self.dims.len()
                    );
                }
            }
        }
        self.counts.clear();
        match &self.count_column {
            Some((name, i)) => read_counts(batch.column(*i), name, first, &mut self.counts)?,
            None => self.counts.resize(n, 1),
        }
        self.keys.clear();
        if let Some((name, i)) = &self.key_column {
            read_record_keys(batch.column(*i), name, self.policy.file.input.record_key_bits, first, &mut self.keys)?;
        }
        if let Rows::Partials { records, largest, key } = self.rows_are {
            self.partial_columns.resize_with(5, Vec::new);
            for (out, (i, name)) in self.partial_columns.iter_mut().zip([
                (records, PARTIAL_RECORDS),
                (largest[0], PARTIAL_LARGEST[0]),
                (largest[1], PARTIAL_LARGEST[1]),
                (largest[2], PARTIAL_LARGEST[2]),
                (key, PARTIAL_KEY),
            ]) {
                out.clear();
                read_counts(batch.column(i), name, first, out)?;
            }
            if let Some(r) = self.partial_columns[4].iter().position(|&k| k > u32::MAX as i64) {
                fail!(Data, "row {}: column `{PARTIAL_KEY}` has {}, above 2^32 - 1; the partial aggregate was altered", first + r as u64, self.partial_columns[4][r]);
            }
        }
        let aggregated = self.policy.input_kind() == InputKind::Aggregated;
        for r in 0..n {
            let mut key: u128 = 0;
            for (d, ids) in self.ids.iter().enumerate() {
                key |= (ids[r] as u128) << (self.bits * d as u32);
            }
            let row = first + r as u64;
            let value = self.counts[r];
            let incoming = match self.rows_are {
                Rows::Input => CellCount { value, first_row: row, records: 1, largest: [value, 0, 0], key: self.keys.get(r).copied().unwrap_or(0) },
                Rows::Partials { .. } => {
                    let p = &self.partial_columns;
                    CellCount { value, first_row: row, records: p[0][r], largest: [p[1][r], p[2][r], p[3][r]], key: p[4][r] as u32 }
                }
            };
            match self.cells.entry(key) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(incoming);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    if aggregated {
                        let first_row = o.get().first_row;
                        let cell = self.describe_key(key);
                        fail!(
                            Data,
                            "rows {first_row} and {row} are both the cell ({cell}); aggregated input has one row per cell: \
                             add the two counts into one row, or remove the duplicate"
                        );
                    }
                    o.get_mut().merge(&incoming, row)?;
                }
            }
        }
        self.rows += n as u64;
        Ok(())
    }

    fn unpack(&self, key: u128) -> Vec<u32> {
        let mask = if self.bits == 32 { u32::MAX as u128 } else { (1u128 << self.bits) - 1 };
        (0..self.dims.len()).map(|d| ((key >> (self.bits * d as u32)) & mask) as u32).collect()
    }

    fn describe_key(&self, key: u128) -> String {
        self.unpack(key)
            .iter()
            .zip(&self.dims)
            .enumerate()
            .map(|(d, (&id, dim))| format!("{}={}", dim.column, self.interners[d].codes[id as usize]))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The cells seen so far with their sums, as a partial aggregate: the
    /// dimension columns (as text, named as in the input) and the columns
    /// [`PARTIAL_COUNT`], [`PARTIAL_RECORDS`], [`PARTIAL_LARGEST`] and
    /// [`PARTIAL_KEY`], one row per cell in the order the cells were first
    /// seen. A builder made with [`Self::merging`] reads it back.
    pub fn partials(&self) -> RecordBatch {
        use arrow_array::builder::{Int64Builder, StringBuilder};
        use arrow_schema::Field;
        let mut cells: Vec<(&u128, &CellCount)> = self.cells.iter().collect();
        cells.sort_unstable_by_key(|(_, c)| c.first_row);
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        let ids: Vec<Vec<u32>> = cells.iter().map(|(k, _)| self.unpack(**k)).collect();
        for (d, dim) in self.dims.iter().enumerate() {
            let mut b = StringBuilder::with_capacity(cells.len(), cells.len() * 4);
            ids.iter().for_each(|id| b.append_value(&self.interners[d].codes[id[d] as usize]));
            fields.push(Field::new(&dim.column, DataType::Utf8, false));
            columns.push(Arc::new(b.finish()));
        }
        type Sum<'a> = (&'a str, &'a dyn Fn(&CellCount) -> i64);
        let sums: [Sum; 6] = [
            (PARTIAL_COUNT, &|c: &CellCount| c.value),
            (PARTIAL_RECORDS, &|c: &CellCount| c.records),
            (PARTIAL_LARGEST[0], &|c: &CellCount| c.largest[0]),
            (PARTIAL_LARGEST[1], &|c: &CellCount| c.largest[1]),
            (PARTIAL_LARGEST[2], &|c: &CellCount| c.largest[2]),
            (PARTIAL_KEY, &|c: &CellCount| c.key as i64),
        ];
        for (name, get) in sums {
            let mut b = Int64Builder::with_capacity(cells.len());
            cells.iter().for_each(|(_, c)| b.append_value(get(c)));
            fields.push(Field::new(name, DataType::Int64, false));
            columns.push(Arc::new(b.finish()));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("columns are built to the schema's types and length")
    }

    /// Build the hierarchies from the codes seen and place the counts in a cube
    /// with its margins; supplied margins (aggregated input) are checked.
    pub fn finish(self) -> Fallible<Cube> {
        if self.rows == 0 {
            fail!(Data, "the input has no rows; check that the right file was given and that it has data below its header");
        }
        let mut dims = Vec::with_capacity(self.dims.len());
        let mut node_of: Vec<Vec<u32>> = Vec::with_capacity(self.dims.len());
        for ((dim, interner), spec) in self.dims.iter().zip(&self.interners).zip(&self.policy.dimensions) {
            let observed: Vec<(&str, CodeOrigin<'_>)> = interner
                .codes
                .iter()
                .zip(&interner.first_row)
                .map(|(c, &row)| (&**c, CodeOrigin { column: &dim.column, row }))
                .collect();
            let hierarchy = Hierarchy::build(&dim.name, &spec.hierarchy, &observed)?;
            node_of.push(interner.codes.iter().map(|c| hierarchy.node(c).expect("observed codes were checked")).collect());
            dims.push(Dimension { name: dim.name.clone(), column: dim.column.clone(), hierarchy });
        }
        let mut cube = Cube::zeros(dims)?;
        let aggregated = self.policy.input_kind() == InputKind::Aggregated;
        let magnitude = self.policy.file.input.magnitude.is_some() && !aggregated;
        let mut contributions =
            if magnitude { Contributions { records: vec![0; cube.len()], largest: vec![[0; 3]; cube.len()] } } else { Contributions::default() };
        // Partial aggregates carry the key sums of a policy with record keys.
        let has_keys = match self.rows_are {
            Rows::Input => self.key_column.is_some(),
            Rows::Partials { .. } => self.policy.file.input.record_key.is_some(),
        };
        let mut cell_keys: Option<Vec<u32>> = has_keys.then(|| vec![0; cube.len()]);
        let mut supplied: Vec<(usize, i64, u64)> = Vec::new();
        // Sorted so that errors name the earliest offending row, whatever the hash order.
        let mut cells: Vec<(u128, CellCount)> = self.cells.iter().map(|(k, v)| (*k, *v)).collect();
        cells.sort_unstable_by_key(|(_, c)| c.first_row);
        for (key, count) in cells {
            let coords: Vec<u32> = self.unpack(key).iter().enumerate().map(|(d, &id)| node_of[d][id as usize]).collect();
            let cell = cube.cell(&coords);
            let margin_dim = (0..coords.len()).find(|&d| !cube.dims()[d].hierarchy.is_leaf(coords[d]));
            match margin_dim {
                None => {
                    cube.values_mut()[cell] = count.value;
                    if let Some(k) = cell_keys.as_mut() {
                        k[cell] = count.key;
                    }
                    if magnitude {
                        contributions.records[cell] = count.records;
                        contributions.largest[cell] = count.largest;
                    }
                }
                Some(_) if aggregated => supplied.push((cell, count.value, count.first_row)),
                Some(d) => {
                    let h = &cube.dims()[d].hierarchy;
                    let node = coords[d];
                    let kids: Vec<&str> = h.children(node).iter().take(3).map(|&k| h.code(k)).collect();
                    if node == h.root() {
                        fail!(
                            Hierarchy,
                            "row {}: code `{}` in column `{}` is also the name of the total of dimension `{}` (the policy's `total`, or the generated `Total`); \
                             a record needs a detailed code: give the total another name in [dimensions.{}] (e.g. `total = \"All\"`) or recode the row",
                            count.first_row,
                            h.code(node),
                            cube.dims()[d].column,
                            cube.dims()[d].name,
                            cube.dims()[d].name
                        );
                    }
                    fail!(
                        Hierarchy,
                        "row {}: code `{}` in column `{}` is a margin of dimension `{}` (it contains `{}`{}), but microdata rows must carry the most detailed code; \
                         recode the row to one of its children, or change the hierarchy",
                        count.first_row,
                        h.code(node),
                        cube.dims()[d].column,
                        cube.dims()[d].name,
                        kids.join("`, `"),
                        if h.children(node).len() > 3 { ", ..." } else { "" }
                    );
                }
            }
        }
        if magnitude {
            cube.set_contributions(contributions);
        }
        if let Some(k) = cell_keys {
            cube.set_cell_keys(k);
        }
        cube.fill_margins()?;
        for (cell, value, row) in supplied {
            let computed = cube.value(cell);
            if computed != value {
                fail!(
                    Data,
                    "row {row} gives {value} for the margin ({}), but the cells below it add up to {computed}; \
                     correct the margin or its cells, or drop the margin rows and let Amparo compute them",
                    cube.describe(cell)
                );
            }
        }
        Ok(cube)
    }
}
