# What protection cost: summary() and plot() of a protected table.

example_paths <- function() {
  ex <- system.file("extdata", package = "amparo")
  list(data = file.path(ex, "children.csv"), policy = file.path(ex, "policy.toml"))
}

test_that("a suppression's summary counts the cells and children hidden in the table", {
  ex <- example_paths()
  out <- protect(ex$data, ex$policy, keep_original = TRUE, progress = FALSE)
  s <- summary(out)
  hidden <- is.na(out$published)
  expect_equal(s$measures[["hidden"]], sum(hidden))
  expect_equal(s$measures[["primary"]], sum(out$status == "primary"))
  expect_equal(s$measures[["primary"]] + s$measures[["secondary"]], sum(hidden))
  inner <- nchar(out$district) == 5 & out$nationality != "Total" & out$age_band != "0-17"
  expect_equal(s$measures[["children"]], sum(out$value[inner]))
  expect_equal(s$measures[["children_hidden"]], sum(out$value[inner & hidden]))
  for (dimension in c("district", "nationality", "age_band")) {
    levels <- s$by_level[s$by_level$dimension == dimension, ]
    expect_equal(sum(levels$cells), nrow(out))
    expect_equal(sum(levels$hidden), sum(hidden))
  }
  expect_equal(nrow(s$changes), 0)
  expect_output(print(s), "children in hidden inner cells")
})

test_that("a rounding's summary is the distribution of published minus original", {
  ex <- example_paths()
  out <- round_table(ex$data, ex$policy, keep_original = TRUE, base = 5, seed = 7, progress = FALSE)
  s <- summary(out)
  change <- out$published - out$value
  expect_equal(s$measures[["changed"]], sum(change != 0))
  expect_equal(s$measures[["max_abs_change"]], max(abs(change)))
  expect_equal(s$measures[["mean_abs_change"]], mean(abs(change)))
  expect_equal(sum(s$changes$cells), length(change))
  for (i in seq_len(nrow(s$changes))) {
    expect_equal(s$changes$cells[i], sum(change >= s$changes$from[i] & change <= s$changes$to[i]))
  }
  expect_false("children_hidden" %in% names(s$measures))
})

test_that("the summary survives the file and never reaches the publication", {
  ex <- example_paths()
  out <- protect(ex$data, ex$policy, progress = FALSE)
  path <- tempfile(fileext = ".parquet")
  write_table(out, path)
  again <- read_table(path)
  expect_s3_class(again, "amparo_table")
  expect_identical(summary(again)$measures, summary(out)$measures)
  published <- publish(out, ex$policy)
  expect_false(any(grepl("summary|loss", names(attr(published, "amparo_metadata")))))
  class(published) <- c("amparo_table", class(published))
  expect_error(summary(published), "publication, which never carries one", class = "amparo_data_error")
})

test_that("plot() draws the share hidden over two dimensions and returns its numbers", {
  ex <- example_paths()
  out <- protect(ex$data, ex$policy, progress = FALSE)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  tiles <- plot(out, rows = "district", columns = "nationality")
  expect_equal(names(tiles), c("district", "nationality", "cells", "hidden", "hidden_share"))
  expect_equal(sum(tiles$cells), nrow(out))
  expect_equal(sum(tiles$hidden), sum(is.na(out$published)))
  one <- tiles[tiles$district == "01001" & tiles$nationality == "VEN", ]
  cells <- out[out$district == "01001" & out$nationality == "VEN", ]
  expect_equal(one$hidden, sum(is.na(cells$published)))
  expect_equal(nrow(plot(out)), length(unique(out$district)) * length(unique(out$nationality)))
  expect_error(plot(out, rows = "distrit"), "did you mean `district`", class = "amparo_policy_error")
  expect_error(plot(out, rows = "district", columns = "district"), "two different dimensions", class = "amparo_policy_error")
})

test_that("synth() gives the shared records as a data.frame, or writes them", {
  # tests/synth: the records the CLI wrote, the same bytes from R's data.frame.
  skip_if(fixtures_dir() == "", "the repository's tests/ folder is not here (R CMD check of the tarball)")
  expected <- file.path(dirname(fixtures_dir()), "synth", "records_40_seed_3.csv")
  records <- synth(records = 40, seed = 3)
  expect_s3_class(records, "data.frame")
  expect_equal(nrow(records), 40)
  written <- tempfile(fileext = ".csv")
  write_table(records, written)
  expect_identical(readBin(written, "raw", 1e6), readBin(expected, "raw", 1e6))
  path <- tempfile(fileext = ".parquet")
  expect_equal(synth(path, records = 40, seed = 3), 40)
  expect_error(synth(path, records = 40, seed = 3), "exists", class = "amparo_io_error")
  expect_error(synth(records = 1e9), "give a path", class = "amparo_policy_error")
  expect_error(synth(records = 2.5), "whole number", class = "amparo_policy_error")
})

test_that("the package help names the functions that share names with readr, dplyr and validate", {
  rd <- tools::Rd_db("amparo")[["amparo-package.Rd"]]
  expect_false(is.null(rd))
  text <- paste(capture.output(tools::Rd2txt(rd, options = list(underline_titles = FALSE))), collapse = "\n")
  for (name in c("readr::read_table", "dplyr::explain", "validate::validate", "amparo::read_table")) {
    expect_match(text, name, fixed = TRUE)
  }
  exported <- getNamespaceExports("amparo")
  expect_true(all(c("read_table", "explain", "validate", "synth") %in% exported))
})

test_that("summary() speaks Spanish when asked", {
  ex <- example_paths()
  out <- protect(ex$data, ex$policy, progress = FALSE)
  text <- summary(out, lang = "es")$text
  for (words in c("ocultas:", "primaria", "umbral<5", "protege una celda sensible", "51,1 %")) {
    expect_match(text, words, fixed = TRUE)
  }
  expect_output(print(summary(out, lang = "en")), "hidden:")
  expect_error(summary(out, lang = "pt"), "en, es", class = "amparo_policy_error")
})
