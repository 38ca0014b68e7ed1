policy_text <- '
version = 1
[input]
kind = "aggregated"
count = "n"
[dimensions.district]
[dimensions.sex]
codes = ["F", "M"]
[primary]
threshold = 5
'

# These tests look at primary suppression alone, whose audit fails by
# design; the audit warning is tested in test-api.R.
protect_quietly <- function(...) suppressWarnings(protect(...), classes = "amparo_audit_warning")

with_policy <- function() {
  path <- tempfile(fileext = ".toml")
  writeLines(policy_text, path)
  path
}

rows <- data.frame(district = c("D1", "D1", "D2", "D2"), sex = c("F", "M", "F", "M"), n = c(7L, 2L, 0L, 11L))

cell <- function(out, d, s) out$published[out$district == d & out$sex == s]

test_that("margins add up and cells below the threshold are hidden", {
  out <- protect_quietly(rows, with_policy())
  expect_s3_class(out, "data.frame")
  expect_equal(cell(out, "Total", "Total"), 20L)
  expect_equal(cell(out, "D1", "Total"), 9L)
  expect_true(is.na(cell(out, "D1", "M")))
  expect_equal(as.character(out$status[out$district == "D1" & out$sex == "M"]), "primary")
  visible <- out$published[!is.na(out$published)]
  expect_true(all(visible == 0 | visible >= 5))
})

test_that("factors, doubles holding whole numbers and integer codes are accepted", {
  f <- rows
  f$district <- factor(f$district)
  f$n <- as.double(f$n)
  expect_identical(protect_quietly(f, with_policy())$published, protect_quietly(rows, with_policy())$published)
  g <- rows
  g$district <- c(1L, 1L, 2L, 2L)
  expect_equal(cell(protect_quietly(g, with_policy()), "1", "F"), 7L)
})

test_that("fractional and negative counts raise amparo_data_error naming the row", {
  bad <- rows
  bad$n <- c(7, 2.5, 0, 11)
  err <- tryCatch(protect_quietly(bad, with_policy()), amparo_data_error = function(e) e)
  expect_s3_class(err, "amparo_error")
  expect_match(conditionMessage(err), "row 2")
  expect_match(conditionMessage(err), "fractional")
  bad$n <- c(7, -2, 0, 11)
  expect_error(protect_quietly(bad, with_policy()), class = "amparo_data_error")
})

test_that("missing codes (NA) raise amparo_data_error naming the column", {
  bad <- rows
  bad$sex[3] <- NA
  expect_error(protect_quietly(bad, with_policy()), class = "amparo_data_error", regexp = "`sex`")
})

test_that("a bad policy raises amparo_policy_error", {
  path <- tempfile(fileext = ".toml")
  writeLines(sub("threshold = 5", "threshhold = 5", policy_text), path)
  expect_error(amparo_policy(path), class = "amparo_policy_error", regexp = "did you mean `threshold`")
})

test_that("metadata records the policy hash", {
  path <- with_policy()
  out <- protect_quietly(rows, path)
  meta <- attr(out, "amparo_metadata")
  expect_equal(unname(meta["amparo.policy_sha256"]), amparo_policy(path)$sha256)
  expect_equal(unname(meta["amparo.method"]), "primary:threshold")
})

test_that("write_table keeps the run metadata in every format, and read_table gives it back", {
  path <- with_policy()
  out <- protect_quietly(rows, path)
  sha <- amparo_policy(path)$sha256
  for (ext in c(".csv", ".parquet", ".arrow")) {
    file <- tempfile(fileext = ext)
    write_table(out, file)
    if (ext == ".csv") expect_match(paste(readLines(paste0(file, ".meta.json")), collapse = "\n"), sha, fixed = TRUE)
    back <- read_table(file)
    expect_equal(unname(attr(back, "amparo_metadata")["amparo.policy_sha256"]), sha)
    # Written again from what was read: still the table protect made.
    again <- tempfile(fileext = ext)
    write_table(back, again)
    expect_equal(unname(attr(read_table(again), "amparo_metadata")["amparo.method"]), "primary:threshold")
  }
  plain <- tempfile(fileext = ".csv")
  write_table(rows, plain)
  expect_false(file.exists(paste0(plain, ".meta.json")))
})

test_that("an output with an unknown extension raises amparo_io_error and writes nothing", {
  dir <- tempfile()
  dir.create(dir)
  out <- protect_quietly(rows, with_policy())
  expect_error(write_table(out, file.path(dir, "out.txt")), class = "amparo_io_error", regexp = ".csv")
  expect_length(list.files(dir, all.files = TRUE, no.. = TRUE), 0)
})

test_that("a Parquet file path is read by the core and gives the same table as the data.frame", {
  pq <- tempfile(fileext = ".parquet")
  write_table(rows, pq)
  expect_identical(protect_quietly(pq, with_policy())$published, protect_quietly(rows, with_policy())$published)
})

test_that("protect_tables gives one data.frame per linked table, shared cells alike", {
  ex <- system.file("extdata", package = "amparo")
  policy <- tempfile(fileext = ".toml")
  writeLines(c(readLines(file.path(ex, "policy.toml")),
    "[tables.by_nationality]", 'dimensions = ["district", "nationality"]',
    "[tables.by_age]", 'dimensions = ["district", "age_band"]'), policy)
  for (data in list(file.path(ex, "children.csv"), read_table(file.path(ex, "children.csv")))) {
    out <- protect_tables(data, policy)
    expect_identical(names(out), c("by_nationality", "by_age"))
    nat <- out$by_nationality[out$by_nationality$nationality == "Total", ]
    age <- out$by_age[out$by_age$age_band == "0-17", ]
    expect_identical(nat$published[order(nat$district)], age$published[order(age$district)])
    expect_true(any(is.na(out$by_nationality$published)))
  }
  err <- tryCatch(protect_quietly(file.path(ex, "children.csv"), policy), amparo_error = function(e) e)
  expect_s3_class(err, "amparo_policy_error")
  expect_match(conditionMessage(err), "protect_tables", fixed = TRUE)
})

test_that("add_record_keys appends uniform keys that the cell key method reads", {
  case <- file.path(fixtures_dir(), "cell_key_microdata")
  skip_if(!dir.exists(case), "shared fixtures not available")
  records <- read_table(file.path(case, "input.csv"))
  records$rkey <- NULL
  keyed <- add_record_keys(records, column = "rkey", seed = 5)
  expect_identical(names(keyed), c("district", "sex", "age_band", "rkey"))
  expect_true(all(keyed$rkey >= 0 & keyed$rkey < 1))
  expect_identical(keyed$rkey, add_record_keys(records, column = "rkey", seed = 5)$rkey)
  expect_false(identical(keyed$rkey, add_record_keys(records, column = "rkey")$rkey))
  expect_match(attr(keyed, "amparo_metadata")[["amparo:record_keys"]], "seed 5")
  out <- protect_quietly(keyed, file.path(case, "policy.toml"), keep_original = TRUE)
  expect_true(all(abs(out$published - out$value) <= 2 & out$published != 1 & out$published >= 0))
  expect_error(add_record_keys(keyed, column = "rkey"), "already has a column", class = "amparo_schema_error")
  expect_error(add_record_keys(records, seed = -1), "whole number", class = "amparo_policy_error")
})

test_that("add_record_keys_to_file writes a new file and never replaces one", {
  case <- file.path(fixtures_dir(), "cell_key_microdata")
  skip_if(!dir.exists(case), "shared fixtures not available")
  out <- tempfile(fileext = ".parquet")
  # Called once: a second call would (rightly) refuse the file the first wrote.
  source_of_keys <- add_record_keys_to_file(file.path(case, "input.csv"), out, column = "k2", seed = 3)
  expect_match(source_of_keys, "seed 3")
  expect_identical(names(read_table(out)), c("district", "sex", "age_band", "rkey", "k2"))
  expect_error(add_record_keys_to_file(file.path(case, "input.csv"), out, column = "k2"), "already exists", class = "amparo_io_error")
})

test_that("audit returns a classed report with checks, findings as a data.frame, and Spanish on request", {
  path <- tempfile(fileext = ".toml")
  writeLines(policy_text, path)
  leaky <- data.frame(district = c("Total", "Total", "Total", "D1", "D1", "D1"),
                      sex = c("Total", "F", "M", "Total", "F", "M"),
                      n = c("20", "x", "17", "20", "x", "17"))
  report <- audit(leaky, path, lang = "en")
  expect_s3_class(report, "amparo_audit")
  expect_false(report$passed)
  expect_equal(report$checks$check[!report$checks$passed], "protection")
  findings <- as.data.frame(report)
  expect_s3_class(findings, "data.frame")
  expect_equal(names(findings), c("check", "key", "table", "cell", "message"))
  expect_true(all(findings$check == "protection"))
  expect_true("district=D1, sex=F" %in% findings$cell)
  expect_output(print(report), "checks: ")
  es <- audit(leaky, path, lang = "es")
  expect_match(es$findings[1], "puede calcularse exactamente")
  expect_error(audit(leaky, path, lang = "xx"), "en, es", class = "amparo_policy_error")
})

test_that("audit reports are written in every format, and explain names what protects a cell", {
  path <- with_policy()
  safe <- data.frame(district = rep(c("Total", "D1", "D2"), each = 3),
                     sex = rep(c("Total", "F", "M"), 3),
                     n = c("40", "20", "20", "20", "x", "x", "20", "x", "x"))
  report <- audit(safe, path, lang = "en")
  expect_true(report$passed)
  expect_setequal(names(report$reports), c("text", "json", "junit", "github", "html", "markdown"))
  page <- tempfile(fileext = ".html")
  expect_identical(write_audit_report(report, page), page)
  html <- paste(readLines(page, warn = FALSE), collapse = "\n")
  # The heat map: 5 published cells and 4 hidden, protected ones.
  hidden_cells <- gregexpr("<td class=\"h\"", html, fixed = TRUE)[[1]]
  expect_length(hidden_cells, 4)
  published_cells <- gregexpr("<td class=\"p\"", html, fixed = TRUE)[[1]]
  expect_length(published_cells, 5)
  junit <- tempfile(fileext = ".xml")
  write_audit_report(report, junit, "junit")
  xml <- paste(readLines(junit, warn = FALSE), collapse = "\n")
  expect_match(xml, "<testsuites name=\"amparo audit\"", fixed = TRUE)
  expect_error(write_audit_report(report, page, "yaml"), "html", class = "amparo_policy_error")
  expect_error(write_audit_report(list(), page), "amparo_audit", class = "amparo_policy_error")

  why <- explain(safe, path, "district=D1,sex=F", lang = "en")
  expect_s3_class(why, "amparo_explanation")
  text <- unclass(why)
  expect_match(text, "lies in [0, 20]", fixed = TRUE)
  expect_equal(lengths(regmatches(text, gregexpr("it could be computed exactly", text, fixed = TRUE))), 2)
  expect_output(print(why), "district=D1, sex=M")
  expect_error(explain(safe, path, "district=D9"), "not in its hierarchy", class = "amparo_policy_error")
  # As sdcTable's cell_info(): a named vector, a list, or a row of the table
  # (its other columns left aside) name the same cell.
  expect_identical(unclass(explain(safe, path, c(district = "D1", sex = "F"), lang = "en")), text)
  expect_identical(unclass(explain(safe, path, list(district = "D1", sex = "F"), lang = "en")), text)
  one_row <- safe[safe$district == "D1" & safe$sex == "F", ]
  expect_equal(nrow(one_row), 1)
  expect_identical(unclass(explain(safe, path, one_row, lang = "en")), text)
  expect_error(explain(safe, path, safe[1:2, ]), "give one row", class = "amparo_policy_error")
  expect_error(explain(safe, path, c(district = "D9")), "not in its hierarchy", class = "amparo_policy_error")
})

test_that("a subset of an amparo_table is a plain frame that keeps the run's metadata", {
  out <- protect_quietly(rows, with_policy())
  part <- out[out$status == "published", ]
  expect_false(inherits(part, "amparo_table"))
  expect_s3_class(part, "data.frame")
  expect_null(attr(part, "amparo_summary"))
  expect_identical(attr(part, "amparo_metadata"), attr(out, "amparo_metadata"))
  expect_false(any(grepl("<amparo_table>", capture.output(print(subset(out, status == "published"))))))
  expect_s3_class(out, "amparo_table")
  expect_identical(out[["published"]], out$published)
})
