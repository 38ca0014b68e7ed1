test_that("the shared fixtures are found", {
  skip_if(length(fixture_cases()) == 0, "shared fixtures not available (installed package)")
  expect_gte(length(fixture_cases()), 17)
})

test_that("good fixture cases give the expected bytes from a data.frame and from a path", {
  skip_if(length(fixture_cases()) == 0, "shared fixtures not available")
  for (case in fixture_cases()) {
    spec <- read_case(case)
    if (!is.null(spec$error_kind)) next
    expected <- readBin(file.path(case, "expected.csv"), "raw", 1e6)
    df <- read_table(file.path(case, "input.csv"))
    for (data in list(df, file.path(case, "input.csv"))) {
      out <- protect(data, file.path(case, "policy.toml"), keep_original = spec$keep_original)
      written <- tempfile(fileext = ".csv")
      write_table(out, written)
      got <- readBin(written, "raw", 1e6)
      expect_identical(got, expected, label = basename(case))
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
