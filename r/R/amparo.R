#' @useDynLib amparo, .registration = TRUE
NULL

# A classed condition: amparo_<kind>_error, amparo_error.
amparo_condition <- function(message, kind, call = sys.call(-1)) {
  structure(
    class = c(paste0("amparo_", kind, "_error"), "amparo_error", "error", "condition"),
    list(message = message, call = call, kind = kind)
  )
}

# Raise a core error as a classed condition. This is the one place where core
# errors become R conditions.
amparo_result <- function(res, call = sys.call(-1)) {
  if (!is.null(res$error)) {
    stop(amparo_condition(res$error[[2]], res$error[[1]], call))
  }
  res
}

as_policy <- function(policy) {
  if (inherits(policy, "amparo_policy")) {
    return(policy)
  }
  if ((is.character(policy) && length(policy) == 1L) || (is.list(policy) && !is.data.frame(policy))) {
    return(amparo_policy(policy))
  }
  stop(amparo_condition("policy must be an amparo_policy(), the path to a policy file, or a list of policy sections", "policy"))
}

# The policy with `changes` merged in (method NULL) or set to protect by one
# method. `call_keywords` are the caller's own arguments: a change whose name
# is a near miss of one (keep_origin = TRUE) is named as it.
change_policy <- function(policy, changes, method = NULL, call_keywords = c("keep_original", "progress")) {
  policy <- as_policy(policy)
  if (length(changes) == 0L && is.null(method)) {
    return(policy)
  }
  if (length(changes) > 0L && (is.null(names(changes)) || any(names(changes) == ""))) {
    stop(amparo_condition("name every policy key given in `...`, e.g. primary = list(threshold = 10)", "policy"))
  }
  res <- amparo_result(.Call(wrap__amparo_policy_change_impl, policy, method, changes, call_keywords))
  structure(res, class = "amparo_policy")
}

input_arg <- function(data) {
  if (is.character(data) && length(data) == 1L) {
    return(normalizePath(data, mustWork = FALSE))
  }
  if (!is.data.frame(data)) {
    stop(amparo_condition("data must be a data.frame or the path to a CSV, Parquet or Arrow file", "schema"))
  }
  as.list(data)
}

# The core's table as the kind of data.frame the caller passed (tibble and
# data.table where installed), statuses as a factor, class amparo_table.
as_result <- function(res, like) {
  out <- list2DF(res$table)
  out$status <- factor(out$status, levels = res$status_levels)
  if (inherits(like, "data.table") && requireNamespace("data.table", quietly = TRUE)) {
    out <- data.table::as.data.table(out)
  } else if (inherits(like, "tbl_df") && requireNamespace("tibble", quietly = TRUE)) {
    out <- tibble::as_tibble(out)
  }
  class(out) <- c("amparo_table", class(out))
  attr(out, "amparo_metadata") <- res$metadata
  attr(out, "amparo_summary") <- res$summary
  if (isTRUE(res$audit_failed)) {
    warning(structure(
      class = c("amparo_audit_warning", "amparo_warning", "warning", "condition"),
      list(message = paste0("the audit failed: this table is not safe to publish\n", res$summary), call = sys.call(-1))
    ))
  }
  out
}

#' A protection policy
#'
#' Reads a policy file (TOML), or builds a policy from an R list with the
#' policy file's sections and keys, optionally changing some of them.
#'
#' In a list, a named list is a section (a TOML table), a vector of length
#' one is a single value and a longer vector a list; wrap a one-element list
#' in `I()` (`codes = I("F")`). Whole numbers may be written `5` or `5L`.
#'
#' @param x The path to a policy file, a list of sections, or an `amparo_policy`.
#' @param ... Sections to change, merged key by key: `primary = list(threshold = 10)`.
#' @param base_dir Where relative paths in a policy built from a list
#'   (codes tables, ptable files) start (default: the working directory).
#' @return An `amparo_policy`: the table name, the dimensions, the policy's
#'   SHA-256 (what outputs record), its TOML text (`toml`), and the policy
#'   as the core validated it (`pointer`), which every call uses without
#'   validating again. A policy read back with `readRDS()` is validated
#'   again from its text. Change a policy with `amparo_policy(p, ...)`, not
#'   by editing its fields.
#' @examples
#' p <- amparo_policy(system.file("extdata", "policy.toml", package = "amparo"))
#' p$dimensions
#' stricter <- amparo_policy(p, primary = list(threshold = 10))
#' q <- amparo_policy(list(
#'   version = 1,
#'   input = list(kind = "aggregated", count = "n"),
#'   dimensions = list(sex = list(codes = c("F", "M"))),
#'   primary = list(threshold = 5)
#' ))
#' cat(q$toml)
#' @export
amparo_policy <- function(x, ..., base_dir = NULL) {
  if (inherits(x, "amparo_policy")) {
    policy <- x
  } else if (is.character(x) && length(x) == 1L) {
    policy <- structure(amparo_result(.Call(wrap__amparo_policy_impl, normalizePath(x, mustWork = FALSE))), class = "amparo_policy")
  } else if (is.list(x) && !is.data.frame(x)) {
    dir <- if (is.null(base_dir)) getwd() else base_dir
    policy <- structure(amparo_result(.Call(wrap__amparo_policy_from_list_impl, x, normalizePath(dir, mustWork = FALSE))), class = "amparo_policy")
  } else {
    stop(amparo_condition("x must be the path to a policy file, a list of policy sections, or an amparo_policy", "policy"))
  }
  change_policy(policy, list(...), call_keywords = "base_dir")
}

#' @export
print.amparo_policy <- function(x, ...) {
  cat("<amparo_policy> ", x$name, "\n  dimensions: ", paste(x$dimensions, collapse = ", "),
      "\n  sha256: ", x$sha256, "\n", sep = "")
  invisible(x)
}

#' Hierarchies of codes for a policy's dimensions
#'
#' Each returns the keys of one `[dimensions.<name>]` section, to use in a
#' policy built from a list (see [amparo_policy()]). The Rust core builds the
#' section, so Python's functions of the same names give the same one.
#'
#' @param tree Nested lists: each name a code, each element the codes under
#'   it (a list to go deeper, or a character vector of leaves). The outer name
#'   is the total.
#' @return A list of dimension keys.
#' @examples
#' regions <- hierarchy_from_tree(list(Total = list(North = c("D1", "D2"), South = "D3")))
#' str(regions)
#' @export
hierarchy_from_tree <- function(tree) {
  amparo_result(.Call(wrap__amparo_hierarchy_from_tree_impl, tree))$section
}

#' @rdname hierarchy_from_tree
#' @param codes A data.frame with a code column and a parent column; an empty
#'   or `NA` parent hangs a code from the total (a single such row is the total).
#' @param code,parent The columns of `codes`.
#' @param total The code of the generated total (default `Total`).
#' @examples
#' places <- data.frame(code = c("05", "05001", "05002"), parent = c("", "05", "05"))
#' hierarchy_from_table(places)
#' @export
hierarchy_from_table <- function(codes, code = "code", parent = "parent", total = NULL) {
  amparo_result(.Call(wrap__amparo_hierarchy_from_table_impl, input_arg(codes), code, parent, total))$section
}

#' @rdname hierarchy_from_tree
#' @param lengths Code lengths from the top level down: `c(2, 5)` for
#'   department `05` > municipality `05001`.
#' @examples
#' hierarchy_from_code_lengths(c(2, 5))
#' @export
hierarchy_from_code_lengths <- function(lengths, total = NULL) {
  amparo_result(.Call(wrap__amparo_hierarchy_from_code_lengths_impl, as.double(lengths), total))$section
}

#' Deprecated names
#'
#' `hierarchy_from_list()` is [hierarchy_from_tree()], the name Python
#' shares; it goes in the next release.
#'
#' @param tree See [hierarchy_from_tree()].
#' @return See [hierarchy_from_tree()].
#' @keywords internal
#' @export
hierarchy_from_list <- function(tree) {
  .Deprecated("hierarchy_from_tree", package = "amparo", msg = "hierarchy_from_list() is renamed hierarchy_from_tree() (one name in Python and R); hierarchy_from_list() goes in the next release")
  hierarchy_from_tree(tree)
}

#' Protect a table of counts
#'
#' Builds the table the policy describes (every cell, margins included) from
#' `data` and protects it as the policy says. `round_table()`, `perturb()` and
#' `add_noise()` give the same table protected by rounding, the cell key
#' method or differential privacy noise instead, keeping the policy's input
#' and dimensions: one policy gives every version of a table.
#'
#' @param data A data.frame (also a tibble or data.table), microdata or
#'   aggregated counts as the policy's `[input]` says, or the path to a CSV,
#'   Parquet or Arrow file read by the Rust core. Dimensions may be character,
#'   factor or integer columns; counts integer or whole doubles.
#' @param policy An [amparo_policy()], the path to a policy file, or a list of sections.
#' @param ... Policy sections to change for this call (`protect()`:
#'   `primary = list(threshold = 10)`), or the keys of the method's section
#'   (`round_table(data, policy, base = 5)`).
#' @param keep_original Add the original counts as a `value` column (for
#'   internal checks only; never publish it).
#' @param progress Show a progress bar on long runs (default: when interactive).
#' @return An `amparo_table` (a data.frame, or a tibble or data.table like the
#'   input), one row per cell: the dimensions, `published` (`NA` when hidden),
#'   `status` (a factor), `reason`, `lower`, `upper` (and `sd` for noise);
#'   attributes `amparo_metadata` (engine version, policy SHA-256, method,
#'   randomness) and `amparo_summary`. A failed audit raises a warning of
#'   class `amparo_audit_warning`.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"))
#' summary(out)
#' stricter <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"),
#'                     primary = list(threshold = 10))
#' table(stricter$status)
#' @export
protect <- function(data, policy, ..., keep_original = FALSE, progress = interactive()) {
  policy <- change_policy(policy, list(...))
  res <- amparo_result(.Call(wrap__amparo_protect_impl, input_arg(data), policy, isTRUE(keep_original), isTRUE(progress)))
  out <- as_result(res, data)
  # The policy that made it, which publish() takes by default.
  attr(out, "amparo_policy") <- policy
  out
}

#' @rdname protect
#' @examples
#' rounded <- round_table(file.path(ex, "children.csv"), file.path(ex, "policy.toml"),
#'                        method = "controlled", base = 5)
#' head(rounded)
#' @export
round_table <- function(data, policy, ..., keep_original = FALSE, progress = interactive()) {
  protect(data, change_policy(policy, list(...), "rounding"), keep_original = keep_original, progress = progress)
}

#' @rdname protect
#' @export
perturb <- function(data, policy, ..., keep_original = FALSE, progress = interactive()) {
  protect(data, change_policy(policy, list(...), "perturbation"), keep_original = keep_original, progress = progress)
}

#' @rdname protect
#' @examples
#' noisy <- add_noise(file.path(ex, "children.csv"), file.path(ex, "policy.toml"), rho = "1/2")
#' head(noisy)
#' @export
add_noise <- function(data, policy, ..., keep_original = FALSE, progress = interactive()) {
  protect(data, change_policy(policy, list(...), "noise"), keep_original = keep_original, progress = progress)
}

#' @export
print.amparo_table <- function(x, ...) {
  cat("<amparo_table> ", attr(x, "amparo_summary"), "\n", sep = "")
  NextMethod()
}

# A subset is no longer the whole protected table: it drops to its frame
# class (data.frame, tibble or data.table) and loses the whole table's
# summary, so print() does not describe the table it came from. It keeps the
# run's metadata: rows of a protected table (sorted, or some districts) are
# still that run's cells, and publish() and write_table() still say how they
# were protected.
#' @export
`[.amparo_table` <- function(x, ...) {
  out <- NextMethod()
  if (inherits(out, "amparo_table")) {
    class(out) <- setdiff(class(out), "amparo_table")
    attr(out, "amparo_summary") <- NULL
    attr(out, "amparo_metadata") <- attr(x, "amparo_metadata")
  }
  out
}

#' What protecting a table cost
#'
#' The same numbers as Python's `amparo.summary()` and `amparo protect
#' --format json`, from the summary the core recorded in the result's
#' metadata (it uses the true values: [publish()] never copies it).
#'
#' @param object A table [protect()] (or [round_table()], [perturb()],
#'   [add_noise()]) returned, or one [read_table()] read from the file
#'   `amparo protect` wrote.
#' @param ... Unused.
#' @param lang Language of `text`: `"en"` or `"es"` (default: from the locale).
#' @return A `summary.amparo_table`: `text` (what `print()` shows),
#'   `measures` (a named numeric vector: `cells`, `hidden`, `hidden_share`,
#'   `primary`, `secondary`; for suppression `children`, `children_hidden`,
#'   `children_hidden_share`; for rounding, the cell key method and noise
#'   `changed`, `changed_share`, `mean_abs_change`, `max_abs_change`,
#'   `median_abs_change`, `p90_abs_change`, `p99_abs_change`,
#'   `mean_relative_abs_change`), and data.frames `by_reason`, `by_level`
#'   (the share of each hierarchy level's cells hidden) and `changes` (the
#'   distribution of published minus original), plus `cells`, `by_status`
#'   and `metadata`.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"), progress = FALSE)
#' s <- summary(out)
#' s$measures[c("hidden", "children_hidden")]
#' s$by_level
#' @export
summary.amparo_table <- function(object, ..., lang = NULL) {
  metadata <- attr(object, "amparo_metadata")
  res <- amparo_result(.Call(wrap__amparo_summary_impl, if (is.null(metadata)) character() else metadata, lang))
  frames <- lapply(res[c("measures", "by_reason", "by_level", "changes")], list2DF)
  structure(
    list(
      text = res$text,
      measures = stats::setNames(frames$measures$value, frames$measures$measure),
      by_reason = frames$by_reason,
      by_level = frames$by_level,
      changes = frames$changes,
      cells = nrow(object),
      by_status = table(object$status),
      metadata = metadata
    ),
    class = "summary.amparo_table"
  )
}

#' @export
print.summary.amparo_table <- function(x, ...) {
  cat(x$text, "\n", sep = "")
  invisible(x)
}

#' A heat map of what a protected table hid
#'
#' Draws, in base graphics, the share of cells hidden for each pair of
#' codes of two dimensions (over the codes of the others): white where
#' nothing is hidden, dark red where every cell is. Each tile shows its
#' hidden cells out of its cells when the map is small enough to read.
#'
#' @param x A table [protect()] returned.
#' @param rows,columns The dimensions down and across (default: the
#'   table's first two).
#' @param ... Passed to [graphics::image()].
#' @return The map's numbers, invisibly: a data.frame with one row per
#'   tile (the two dimensions' codes, `cells`, `hidden`, `hidden_share`).
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"), progress = FALSE)
#' plot(out, rows = "district", columns = "nationality")
#' @export
plot.amparo_table <- function(x, rows = NULL, columns = NULL, ...) {
  grid <- amparo_result(.Call(wrap__amparo_hidden_grid_impl, as.list(as.data.frame(x)), rows, columns))
  n_rows <- length(grid$rows)
  n_columns <- length(grid$columns)
  share <- ifelse(grid$cells > 0, grid$hidden / grid$cells, NA_real_)
  # Row-major from the core; image() takes a matrix with x across.
  z <- t(matrix(share, nrow = n_rows, ncol = n_columns, byrow = TRUE))
  palette <- grDevices::colorRampPalette(c("#ffffff", "#f4a582", "#b2182b"))(11)
  old <- graphics::par(mar = c(6, 8, 3, 1))
  on.exit(graphics::par(old))
  graphics::image(seq_len(n_columns), seq_len(n_rows), z[, rev(seq_len(n_rows)), drop = FALSE],
    zlim = c(0, 1), col = palette, axes = FALSE, xlab = grid$column_dimension, ylab = "",
    main = "share of cells hidden", ...
  )
  graphics::axis(1, at = seq_len(n_columns), labels = grid$columns, las = 2, cex.axis = 0.7)
  graphics::axis(2, at = seq_len(n_rows), labels = rev(grid$rows), las = 1, cex.axis = 0.7)
  graphics::mtext(grid$row_dimension, side = 2, line = 6)
  if (n_rows * n_columns <= 400) {
    at <- expand.grid(column = seq_len(n_columns), row = seq_len(n_rows))
    graphics::text(at$column, n_rows + 1 - at$row, paste0(grid$hidden, "/", grid$cells), cex = 0.5)
  }
  tiles <- data.frame(
    rep(grid$rows, each = n_columns), rep(grid$columns, times = n_rows),
    cells = grid$cells, hidden = grid$hidden, hidden_share = share
  )
  names(tiles)[1:2] <- c(grid$row_dimension, grid$column_dimension)
  invisible(tiles)
}

#' Protect linked tables together
#'
#' Builds every table the policy's `[tables]` lists from the same microdata
#' (read once) and protects them together: a cell they share (a district's
#' total in district x sex and in district x age) has one status in all of
#' them, and the audit covers them at once.
#'
#' @inheritParams protect
#' @return A named list of `amparo_table`s, one per table, each like [protect()]'s result.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' policy <- tempfile(fileext = ".toml")
#' writeLines(c(readLines(file.path(ex, "policy.toml")),
#'   "[tables.by_nationality]", 'dimensions = ["district", "nationality"]',
#'   "[tables.by_age]", 'dimensions = ["district", "age_band"]'), policy)
#' out <- protect_tables(file.path(ex, "children.csv"), policy)
#' names(out)
#' @export
protect_tables <- function(data, policy, ..., keep_original = FALSE, progress = interactive()) {
  policy <- change_policy(policy, list(...))
  res <- amparo_result(.Call(wrap__amparo_protect_tables_impl, input_arg(data), policy, isTRUE(keep_original), isTRUE(progress)))
  out <- lapply(seq_along(res$tables), function(i) {
    out <- as_result(list(table = res$tables[[i]], summary = res$summaries[[i]], metadata = res$metadata[[i]], status_levels = res$status_levels), data)
    attr(out, "amparo_policy") <- policy
    out
  })
  names(out) <- res$names
  out
}

#' Publish a protected table
#'
#' The file people publish, from what [protect()] returned: only the
#' dimension columns (with labels where the policy's
#' `[publication.labels]` gives them) and the published values, every hidden
#' cell carrying the policy's one marker (`[publication] hidden_marker`,
#' default `x`). `status`, `reason`, `lower`, `upper`, `sd` and `value` tell
#' an outsider what the protection hides and never leave: the table
#' [protect()] returns is the producer's, not for publication.
#'
#' Refuses a table whose audit failed, one protected with another policy,
#' and one that lost the metadata [protect()] gave it (the
#' `amparo_metadata` attribute).
#'
#' @param data What [protect()] returned (or the path of the file `amparo
#'   protect` wrote), or the list [protect_tables()] returned.
#' @param policy The policy that protected it: an [amparo_policy()] or the
#'   path to a policy file (default: the one [protect()], [round_table()],
#'   [add_noise()] or [perturb()] used, which their result carries).
#' @param path Where to write the publication: `.csv`, `.sdmx.csv`
#'   (SDMX-CSV), `.xlsx` (Excel), `.parquet`, `.arrow`; for linked tables a
#'   folder (a file per table) or one `.xlsx`. `NULL` (default) writes nothing.
#' @param layout `"long"` (a row per cell) or `"wide"` (one dimension across
#'   the columns); default: the policy's `[publication] layout`.
#' @param format `"csv"`, `"sdmx"`, `"xlsx"`, `"parquet"`, `"arrow"`,
#'   `"arrows"` (default: from `path`).
#' @param overwrite Replace a file that exists (default `FALSE`: refused).
#' @return The publication as a data.frame (values as text: a count or the
#'   marker), or a named list of them for linked tables, with attribute
#'   `amparo_metadata`; invisibly when written to `path`.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"))
#' published <- publish(out, file.path(ex, "policy.toml"))
#' head(published)
#' publish(out, path = tempfile(fileext = ".xlsx"))  # the policy protect() used
#' rounded <- round_table(file.path(ex, "children.csv"), file.path(ex, "policy.toml"), base = 5)
#' head(publish(rounded, layout = "wide"))
#' @export
publish <- function(data, policy = NULL, path = NULL, layout = NULL, format = NULL, overwrite = FALSE) {
  linked <- is.list(data) && !is.data.frame(data)
  if (is.null(policy)) {
    policy <- attr(if (linked) data[[1]] else data, "amparo_policy")
    if (is.null(policy)) {
      stop(amparo_condition("give the policy that protected the table: publish(data, policy)", "policy"))
    }
  }
  policy <- as_policy(policy)
  tables <- if (linked) data else list(data)
  metadata <- lapply(seq_along(tables), function(i) {
    m <- attr(tables[[i]], "amparo_metadata")
    if (is.null(m)) character() else m
  })
  res <- amparo_result(.Call(
    wrap__amparo_publish_impl, lapply(tables, input_arg), metadata, policy,
    if (is.null(path)) NULL else path.expand(path), layout, format, isTRUE(overwrite)
  ))
  out <- lapply(seq_along(res$tables), function(i) {
    df <- list2DF(res$tables[[i]])
    attr(df, "amparo_metadata") <- res$metadata[[i]]
    df
  })
  if (linked) names(out) <- names(data)
  result <- if (linked) out else out[[1]]
  if (is.null(path)) result else invisible(result)
}

#' Check a table against a policy
#'
#' Checks columns, codes, counts and margins without protecting anything.
#'
#' @inheritParams protect
#' @return A description of the table (invisibly); errors are raised as
#'   classed conditions (`amparo_error`).
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' validate(file.path(ex, "children.csv"), file.path(ex, "policy.toml"))
#' @export
validate <- function(data, policy) {
  policy <- as_policy(policy)
  res <- amparo_result(.Call(wrap__amparo_validate_impl, input_arg(data), policy))
  cat(res$text, "\n", sep = "")
  invisible(res$text)
}

#' Audit a table as it will be published
#'
#' Works on any published table, including one Amparo did not make: cells are
#' named by their dimension codes, a hidden cell is `NA` or one of the
#' publisher's marks, and cells left out are unknown to the attacker too. The
#' audit reports published cells below the threshold, published cells that do
#' not add up, and hidden cells that can be shown to be below the threshold
#' (or, without a threshold, computed exactly).
#'
#' @param data A data.frame or the path to a CSV, Parquet or Arrow file; for
#'   a policy that lists `[tables]`, a list of them, one per linked table in
#'   the policy's order (audited together, so differencing between them is found).
#' @param policy An [amparo_policy()] or the path to a policy file.
#' @param value_column Column of published values (default: `published` if
#'   present, `OBS_VALUE` in SDMX-CSV, else the policy's `[publication]
#'   value_column`, else its `[input] count`, else `count`). A table laid out
#'   wide (`[publication] layout = "wide"`) is read across its columns.
#' @param hidden_symbols Marks of a hidden cell (default: empty, `NA`, `..`,
#'   `x`, `c`, `-`, `*`, and the policy's `[publication] hidden_marker`).
#' @param lang Language of the messages, `"en"` or `"es"` (default: from the locale).
#' @param progress Show a progress bar on long runs (default: when interactive).
#' @return An `amparo_audit`: `passed`, `cells`, `hidden_cells`, `language`,
#'   `findings` (the messages), `checks` (a data.frame: check, passed,
#'   findings), `reports` (the report in each format of `amparo audit
#'   --format`: text, json, junit, github, html, and markdown; see
#'   [write_audit_report()]); `as.data.frame()` gives the findings as a
#'   data.frame (check, key, table, cell, message).
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"))
#' report <- audit(publish(out, file.path(ex, "policy.toml")), file.path(ex, "policy.toml"))
#' report
#' as.data.frame(report)
#' @export
audit <- function(data, policy, value_column = NULL, hidden_symbols = NULL, lang = NULL, progress = interactive()) {
  symbols <- if (is.null(hidden_symbols)) NULL else as.character(hidden_symbols)
  tables <- published_tables(data)
  policy <- as_policy(policy)
  res <- amparo_result(.Call(
    wrap__amparo_audit_impl, tables$inputs, tables$names, policy, value_column, symbols, lang, isTRUE(progress)
  ))
  res$checks <- list2DF(res$checks)
  res$finding_table <- list2DF(res$finding_table)
  structure(res, class = "amparo_audit")
}

#' @export
print.amparo_audit <- function(x, ...) {
  verdict <- if (x$passed) "passed" else sprintf("FAILED: %d findings", length(x$findings))
  cat(sprintf("<amparo audit> %s (%d cells, %d hidden)\n", verdict, as.integer(x$cells), as.integer(x$hidden_cells)))
  checks <- sprintf("%s %s", x$checks$check, ifelse(x$checks$passed, "ok", "FAILED"))
  cat("  checks: ", paste(checks, collapse = ", "), "\n", sep = "")
  for (f in x$findings[seq_len(min(20L, length(x$findings)))]) cat("  ", f, "\n", sep = "")
  invisible(x)
}

#' @export
as.data.frame.amparo_audit <- function(x, ...) {
  x$finding_table
}

#' @export
summary.amparo_audit <- function(object, ...) {
  structure(
    list(
      passed = object$passed,
      cells = object$cells,
      hidden_cells = object$hidden_cells,
      checks = object$checks,
      findings_by_check = table(factor(object$finding_table$check, levels = object$checks$check))
    ),
    class = "summary.amparo_audit"
  )
}

#' @export
print.summary.amparo_audit <- function(x, ...) {
  cat(sprintf("audit %s: %d cells, %d hidden
", if (x$passed) "passed" else "FAILED", as.integer(x$cells), as.integer(x$hidden_cells)))
  print(data.frame(check = x$checks$check, passed = x$checks$passed, findings = as.integer(x$findings_by_check)), row.names = FALSE)
  invisible(x)
}

# One published table or a list of them (linked tables): the core's inputs,
# and their names in reports (a file's path; the core names the others
# "table 1", ... in the report's language).
published_tables <- function(data) {
  tables <- if (is.list(data) && !is.data.frame(data)) data else list(data)
  names <- vapply(seq_along(tables), function(i) {
    if (is.character(tables[[i]])) tables[[i]] else ""
  }, character(1))
  list(inputs = lapply(tables, input_arg), names = names)
}

#' Write an audit report to a file
#'
#' The report as `amparo audit --format` writes it: a self-contained HTML
#' page with a heat map of each table's cells (`"html"`, for reviewers),
#' JUnit XML for CI systems (`"junit"`), the versioned JSON (`"json"`),
#' GitHub workflow annotations (`"github"`), Markdown (`"markdown"`) or text.
#'
#' @param report An `amparo_audit` from [audit()].
#' @param path The file to write.
#' @param format One of `"html"`, `"json"`, `"junit"`, `"text"`, `"github"`, `"markdown"`.
#' @return `path`, invisibly.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"))
#' page <- tempfile(fileext = ".html")
#' policy <- file.path(ex, "policy.toml")
#' write_audit_report(audit(publish(out, policy), policy), page)
#' @export
write_audit_report <- function(report, path, format = "html") {
  if (!inherits(report, "amparo_audit")) {
    stop(amparo_condition("`report` must be an amparo_audit, as audit() returns", "policy"))
  }
  if (!is.character(format) || length(format) != 1 || !format %in% names(report$reports)) {
    stop(amparo_condition(
      sprintf("unknown report format `%s`; use one of %s", paste(format, collapse = ", "), paste(names(report$reports), collapse = ", ")),
      "policy"
    ))
  }
  writeLines(report$reports[[format]], path, sep = "", useBytes = TRUE)
  invisible(path)
}

#' Explain one cell of a published table
#'
#' Why the cell is hidden or flagged: its findings, what an attacker can tell
#' about it from the published cells, the totals it is in, and what each
#' hidden cell beside it would reveal if it were published (as
#' `amparo explain` says it).
#'
#' @inheritParams audit
#' @param cell The cell: `dimension=code` pairs in a string
#'   (`"district=D01,sex=F"`), a named character vector
#'   (`c(district = "D01", sex = "F")`), a named list, or one row of a table
#'   (`out[5, ]`; its columns that are not dimensions are left aside), as
#'   sdcTable's `cell_info()` takes them. A dimension left out is its total.
#' @return The explanation (a character string of class `amparo_explanation`),
#'   printed.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"))
#' hidden <- out[out$status != "published", ]
#' cell <- paste0("district=", hidden$district[1], ",nationality=", hidden$nationality[1],
#'                ",age_band=", hidden$age_band[1])
#' explain(out, file.path(ex, "policy.toml"), cell)
#' @export
explain <- function(data, policy, cell, value_column = NULL, hidden_symbols = NULL, lang = NULL) {
  symbols <- if (is.null(hidden_symbols)) NULL else as.character(hidden_symbols)
  tables <- published_tables(data)
  policy <- as_policy(policy)
  row <- is.data.frame(cell)
  if (row) {
    if (nrow(cell) != 1L) {
      stop(amparo_condition(sprintf("`cell` is a data.frame of %d rows; give one row (e.g. out[5, ]), a named vector c(district = \"D01\") or \"district=D01,sex=F\"", nrow(cell)), "policy"))
    }
    cell <- vapply(cell, function(column) as.character(column)[1], "")
  } else if (is.list(cell)) {
    cell <- vapply(cell, function(code) as.character(code)[1], "")
  } else {
    cell <- stats::setNames(as.character(cell), names(cell))
  }
  res <- amparo_result(.Call(
    wrap__amparo_explain_impl, tables$inputs, tables$names, policy, cell, row, value_column, symbols, lang
  ))
  structure(res$text, class = "amparo_explanation")
}

#' @export
print.amparo_explanation <- function(x, ...) {
  cat(unclass(x))
  invisible(x)
}

#' Read a table with the Rust core
#'
#' CSV files are read with every column as text, so codes keep leading zeros.
#'
#' @param path A CSV, Parquet or Arrow IPC file.
#' @return A data.frame; for a protected table (the file `amparo protect`
#'   or [write_table()] wrote), an `amparo_table` with its run's metadata, so
#'   [summary()][summary.amparo_table()] and [plot()][plot.amparo_table()] work on it.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' head(read_table(file.path(ex, "children.csv")))
#' @export
read_table <- function(path) {
  res <- amparo_result(.Call(wrap__amparo_read_table_impl, normalizePath(path, mustWork = FALSE)))
  out <- list2DF(res$table)
  attr(out, "amparo_metadata") <- res$metadata
  # The producer's table amparo protect (or write_table) wrote is a protected
  # table again: summary() and plot() work on it.
  if (!is.null(res$metadata) && "amparo.summary" %in% names(res$metadata)) {
    class(out) <- c("amparo_table", class(out))
    attr(out, "amparo_summary") <- .Call(wrap__amparo_summary_impl, res$metadata, NULL)$text
  }
  out
}

#' Write a table with the Rust core
#'
#' The format follows the extension (.csv, .parquet, .arrow, .arrows). The
#' file is written under a temporary name and moved into place.
#'
#' @param df A data.frame.
#' @param path The output file.
#' @return `path`, invisibly.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- protect(file.path(ex, "children.csv"), file.path(ex, "policy.toml"))
#' write_table(out, tempfile(fileext = ".csv"))
#' @export
write_table <- function(df, path) {
  metadata <- attr(df, "amparo_metadata")
  amparo_result(.Call(wrap__amparo_write_table_impl, as.list(df), if (is.null(metadata)) character() else metadata, path.expand(path)))
  invisible(path)
}

#' Give every record a record key for the cell key method
#'
#' Each record gets a key uniform in \[0, 1) from the operating system's secure
#' source (or from `seed`, for tests: not for publication). Generate keys once
#' and keep them with the records: the cell key method gives a cell the same
#' value in every table and release only while its records keep their keys.
#'
#' @param data A data.frame, or the path to a CSV, Parquet or Arrow file.
#' @param column Name of the new column; the data must not have it already.
#' @param seed Optional whole number for reproducible keys.
#' @return `data` with the new column (a data.frame); the source of the keys is
#'   in `attr(result, "amparo_metadata")`.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' keyed <- add_record_keys(file.path(ex, "children.csv"), seed = 1)
#' summary(keyed$record_key)
#' @export
add_record_keys <- function(data, column = "record_key", seed = NULL) {
  res <- amparo_result(.Call(wrap__amparo_add_record_keys_impl, input_arg(data), column, seed_arg(seed)))
  out <- list2DF(res$table)
  attr(out, "amparo_metadata") <- res$metadata
  out
}

#' Copy a microdata file to a new file with record keys
#'
#' Streams the file batch by batch (no limit from R's memory). Refuses an
#' `output` that is the input, or that exists unless `overwrite` (a file of
#' keys is kept across releases: replace only keys never used).
#'
#' @param input A CSV, Parquet or Arrow file of microdata.
#' @param output The new file (format by extension).
#' @inheritParams add_record_keys
#' @param overwrite Replace `output` if it exists (default `FALSE`).
#' @return Where the keys came from (a string), invisibly.
#' @examples
#' ex <- system.file("extdata", package = "amparo")
#' out <- tempfile(fileext = ".parquet")
#' add_record_keys_to_file(file.path(ex, "children.csv"), out)
#' @export
add_record_keys_to_file <- function(input, output, column = "record_key", seed = NULL, overwrite = FALSE) {
  res <- amparo_result(.Call(
    wrap__amparo_add_record_keys_to_file_impl,
    normalizePath(input, mustWork = FALSE), path.expand(output), column, seed_arg(seed), isTRUE(overwrite)
  ))
  invisible(res$randomness)
}

seed_arg <- function(seed) {
  if (is.null(seed)) NULL else as.double(seed)
}

#' Synthetic microdata of children on the move
#'
#' The records `amparo synth` makes: six countries with their admin units, a
#' long tail of nationalities, families. The same seed gives the same records
#' in R, Python and the command line.
#'
#' @param path Where to write the records (.parquet, .csv, .arrow), a batch at
#'   a time; `NULL` (the default) returns them as a data.frame.
#' @param records How many records.
#' @param mode `"flow"` (a record per event) or `"stock"` (a record per child).
#' @param seed The generator's seed.
#' @param countries Country codes to generate (default: all six).
#' @param years How many years (1 to 5), from `first_year`.
#' @param first_year The first year.
#' @param overwrite Replace an existing `path`.
#' @return A data.frame of the records, or (with `path`) the number written, invisibly.
#' @examples
#' records <- synth(records = 1000, seed = 3)
#' head(records)
#' @export
synth <- function(path = NULL, records = 10000, mode = "flow", seed = 1, countries = character(),
                  years = 1, first_year = 2024, overwrite = FALSE) {
  target <- if (is.null(path)) NULL else normalizePath(path, mustWork = FALSE)
  res <- amparo_result(.Call(
    wrap__amparo_synth_impl, target, as.numeric(records), as.character(mode), as.numeric(seed),
    as.character(countries), as.numeric(years), as.numeric(first_year), isTRUE(overwrite)
  ))
  if (is.null(path)) {
    return(list2DF(res$table))
  }
  invisible(res$records)
}
