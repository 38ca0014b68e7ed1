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
    published <- file.path(case, "expected.csv")
    for (data in list(read_table(published), published)) {
      report <- audit(data, file.path(case, "policy.toml"))
      expect_s3_class(report, "amparo_audit")
      expect_identical(report$passed, passes, label = basename(case))
      # Every hidden cell of the file is counted (none in a rounded table).
      expect_identical(as.integer(report$hidden_cells), sum(is.na(read_table(published)$published)), label = basename(case))
    }
  }
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
  by_sex <- file.path(case, "expected.by_sex.csv")
  by_age <- file.path(case, "expected.by_age.csv")
  expect_true(audit(list(by_sex, read_table(by_age)), file.path(case, "policy.toml"))$passed)
  leaky <- tempfile(fileext = ".csv")
  text <- readLines(by_age)
  text <- sub("^1a,Total,13,,secondary,protects a sensitive cell,11,$", "1a,Total,13,13,published,,,", text)
  text <- sub("^1a,B,7,,secondary,protects a sensitive cell,5,$", "1a,B,7,7,published,,,", text)
  writeLines(text, leaky)
  report <- audit(list(by_sex, leaky), file.path(case, "policy.toml"))
  expect_true("hidden cell (district=1a, sex=F) can be computed exactly: it is 2" %in% report$findings)
  err <- tryCatch(audit(list(by_sex), file.path(case, "policy.toml")), amparo_error = function(e) e)
  expect_s3_class(err, "amparo_policy_error")
})
