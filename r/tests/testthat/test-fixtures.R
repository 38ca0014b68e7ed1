test_that("the shared fixtures are found", {
  skip_if(length(fixture_cases()) == 0, "shared fixtures not available (installed package)")
  expect_gte(length(fixture_cases()), 17)
})

test_that("good fixture cases give the expected bytes from a data.frame and from a path", {
  skip_if(length(fixture_cases()) == 0, "shared fixtures not available")
  for (case in fixture_cases()) {
    spec <- read_case(case)
    if (!is.null(spec$error_kind)) next
    df <- read_table(file.path(case, "input.csv"))
    for (data in list(df, file.path(case, "input.csv"))) {
      # Linked tables: one expected.<table>.csv each; otherwise expected.csv.
      # Some cases protect with `fast` and fail their audit on purpose: the
      # warning is the point of another test.
      outs <- withCallingHandlers(
        if (file.exists(file.path(case, "expected.csv"))) {
          list(expected.csv = protect(data, file.path(case, "policy.toml"), keep_original = spec$keep_original))
        } else {
          tables <- protect_tables(data, file.path(case, "policy.toml"), keep_original = spec$keep_original)
          stats::setNames(tables, paste0("expected.", names(tables), ".csv"))
        },
        amparo_audit_warning = function(w) invokeRestart("muffleWarning")
      )
      for (file in names(outs)) {
        written <- tempfile(fileext = ".csv")
        write_table(outs[[file]], written)
        got <- readBin(written, "raw", 1e6)
        expected <- readBin(file.path(case, file), "raw", 1e6)
        expect_identical(got, expected, label = paste(basename(case), file))
      }
    }
  }
})

test_that("bad fixture cases raise classed conditions naming the problem", {
  skip_if(length(fixture_cases()) == 0, "shared fixtures not available")
  n <- 0
  for (case in fixture_cases()) {
    spec <- read_case(case)
    if (is.null(spec$error_kind)) next
    n <- n + 1
    cls <- paste0("amparo_", spec$error_kind, "_error")
    err <- tryCatch(
      protect(read_table(file.path(case, "input.csv")), file.path(case, "policy.toml")),
      amparo_error = function(e) e
    )
    expect_s3_class(err, cls)
    expect_s3_class(err, "amparo_error")
    for (fragment in spec$contains) {
      expect_true(grepl(fragment, conditionMessage(err), fixed = TRUE),
                  label = paste(basename(case), "names", fragment))
    }
  }
  expect_gte(n, 14)
})

test_that("published fixture outputs audit as the CLI says, from a data.frame and a path", {
  skip_if(length(fixture_cases()) == 0, "shared fixtures not available")
  for (case in fixture_cases()) {
    spec <- read_case(case)
    if (!is.null(spec$error_kind) || !file.exists(file.path(case, "expected.csv"))) next
    passes <- grepl('audit = "passed"', paste(readLines(file.path(case, "case.toml")), collapse = "\n"), fixed = TRUE)
    view <- outsider_view(read_table(file.path(case, "expected.csv")))
    published <- tempfile(fileext = ".csv")
    write_table(view, published)
    for (data in list(view, published)) {
      report <- audit(data, file.path(case, "policy.toml"))
      expect_s3_class(report, "amparo_audit")
      expect_identical(report$passed, passes, label = basename(case))
      # Every hidden cell of the file is counted (none in a rounded table).
      expect_identical(as.integer(report$hidden_cells), sum(is.na(view$published) | view$published %in% ""), label = basename(case))
    }
    # The producer's own table is not for publication: the columns check names what leaks.
    internal <- audit(file.path(case, "expected.csv"), file.path(case, "policy.toml"))
    expect_false(internal$passed)
    expect_true("columns" %in% internal$checks$check[!internal$checks$passed], label = basename(case))
  }
})

test_that("publish_* fixtures: protect then publish gives the expected publication, from a data.frame and a path", {
  skip_if(length(fixture_cases()) == 0, "shared fixtures not available")
  n <- 0
  for (case in fixture_cases()) {
    spec <- read_case(case)
    if (is.null(spec$output)) next
    n <- n + 1
    policy <- file.path(case, "policy.toml")
    for (data in list(read_table(file.path(case, "input.csv")), file.path(case, "input.csv"))) {
      out <- protect(data, policy, progress = FALSE)
      target <- file.path(tempfile(), spec$output)
      dir.create(dirname(target))
      published <- publish(out, policy, target)
      expect_s3_class(published, "data.frame")
      if (endsWith(spec$output, ".xlsx")) {
        skip_if_not_installed("readxl")
        expect_identical(first_sheet_as_csv(target), paste0(paste(readLines(file.path(case, paste0("expected.", spec$output, ".csv"))), collapse = "\n"), "\n"))
        next
      }
      expect_identical(readLines(target), readLines(file.path(case, paste0("expected.", spec$output))), label = basename(case))
      expect_true(audit(target, policy)$passed, label = basename(case))
      # Never over an existing file, unless asked.
      err <- tryCatch(publish(out, policy, target), amparo_error = function(e) e)
      expect_s3_class(err, "amparo_io_error")
      expect_silent(publish(out, policy, target, overwrite = TRUE))
    }
  }
  expect_gte(n, 4)
})

test_that("publish refuses a table whose audit failed, and one that lost its metadata", {
  case <- file.path(fixtures_dir(), "publish_long")
  skip_if(!dir.exists(case), "shared fixtures not available")
  policy <- file.path(case, "policy.toml")
  unsafe <- suppressWarnings(protect(file.path(case, "input.csv"), policy, secondary = list(method = "none"), progress = FALSE))
  err <- tryCatch(publish(unsafe, amparo_policy(policy, secondary = list(method = "none"))), amparo_error = function(e) e)
  expect_s3_class(err, "amparo_infeasible_error")
  expect_match(conditionMessage(err), "the audit of this table failed")
  stripped <- as.data.frame(unclass(protect(file.path(case, "input.csv"), policy, progress = FALSE)))
  attr(stripped, "amparo_metadata") <- NULL
  err <- tryCatch(publish(stripped, policy), amparo_error = function(e) e)
  expect_s3_class(err, "amparo_data_error")
  expect_match(conditionMessage(err), "carries no Amparo metadata")
})

test_that("audit reads the publisher's marks and names the cell that leaks", {
  policy <- file.path(fixtures_dir(), "secondary_interval_two_way", "policy.toml")
  skip_if(!file.exists(policy), "shared fixtures not available")
  df <- data.frame(r = c("a", "a", "b", "b", "a"), c = c("x", "y", "x", "y", "Total"), n = c("?", "10", "8", "9", "13"))
  err <- tryCatch(audit(df, policy), amparo_error = function(e) e)
  expect_s3_class(err, "amparo_data_error")
  expect_match(conditionMessage(err), "row 1: column `n` has `?`", fixed = TRUE)
  report <- audit(df, policy, hidden_symbols = "?")
  expect_false(report$passed)
  # (a,z) is not listed: (a,x) + (a,z) = 3, so (a,x) is only shown to be small.
  expect_identical(report$findings, "hidden cell (r=a, c=x) can be shown to lie in [0, 3], below the threshold of 5")
  expect_output(print(report), "FAILED: 1 findings")
})

test_that("audit takes a list of published linked tables and finds differencing between them", {
  case <- file.path(fixtures_dir(), "linked_tables")
  skip_if(!dir.exists(case), "shared fixtures not available")
  by_sex <- outsider_view(read_table(file.path(case, "expected.by_sex.csv")))
  by_age <- tempfile(fileext = ".csv")
  write_table(outsider_view(read_table(file.path(case, "expected.by_age.csv"))), by_age)
  expect_true(audit(list(by_sex, read_table(by_age)), file.path(case, "policy.toml"))$passed)
  internal <- tempfile(fileext = ".csv")
  text <- readLines(file.path(case, "expected.by_age.csv"))
  text <- sub("^1a,Total,13,,secondary,protects a sensitive cell,11,20$", "1a,Total,13,13,published,,,", text)
  text <- sub("^1a,B,7,,secondary,protects a sensitive cell,0,15$", "1a,B,7,7,published,,,", text)
  expect_equal(sum(grepl(",published,,,$", text)), sum(grepl(",published,,,$", readLines(file.path(case, "expected.by_age.csv")))) + 2)
  writeLines(text, internal)
  leaky <- outsider_view(read_table(internal))
  report <- audit(list(by_sex, leaky), file.path(case, "policy.toml"))
  expect_true("hidden cell (district=1a, sex=F) can be computed exactly: it is 2" %in% report$findings)
  err <- tryCatch(audit(list(by_sex), file.path(case, "policy.toml")), amparo_error = function(e) e)
  expect_s3_class(err, "amparo_policy_error")
})
