# The R API over the whole core: policies from lists, overrides, the four ways
# to protect one table, hierarchies from R data, output classes, print and
# summary methods, progress, and bad input as classed conditions naming the
# column.

counts <- data.frame(
  district = rep(c("D1", "D2", "D3"), each = 2),
  sex = rep(c("F", "M"), 3),
  n = c(3L, 17L, 20L, 8L, 12L, 2L)
)

policy_list <- list(
  version = 1,
  input = list(kind = "aggregated", count = "n"),
  dimensions = list(district = list(codes = c("D1", "D2", "D3")), sex = list(codes = c("F", "M"))),
  primary = list(threshold = 5),
  secondary = list(method = "interval")
)

cell_of <- function(out, d, s) out[out$district == d & out$sex == s, ]

test_that("a policy from a list keeps its dimension order, round-trips through TOML and takes overrides", {
  p <- amparo_policy(policy_list)
  expect_s3_class(p, "amparo_policy")
  expect_identical(p$dimensions, c("district", "sex"))
  path <- tempfile(fileext = ".toml")
  writeLines(p$toml, path, sep = "")
  expect_identical(amparo_policy(path)$sha256, p$sha256)
  stricter <- amparo_policy(p, primary = list(threshold = 10))
  expect_false(identical(stricter$sha256, p$sha256))
  expect_match(stricter$toml, "threshold = 10", fixed = TRUE)
  expect_match(stricter$toml, "method = \"interval\"", fixed = TRUE)
  expect_error(amparo_policy(c(policy_list, list(primray = list()))), "primray", class = "amparo_policy_error")
  expect_error(amparo_policy(modifyList(policy_list, list(name = NA))), "NA", class = "amparo_policy_error")
  expect_error(amparo_policy(42), class = "amparo_policy_error")
  expect_output(print(p), "dimensions: district, sex")
})

test_that("protect takes overrides, keeps the input's class and gives statuses as a factor", {
  base <- protect(counts, policy_list, progress = FALSE)
  strict <- protect(counts, policy_list, primary = list(threshold = 10), progress = FALSE)
  expect_s3_class(base, "amparo_table")
  expect_s3_class(base, "data.frame")
  expect_true(is.factor(base$status))
  expect_true(all(c("published", "primary", "secondary", "rounded", "perturbed", "noisy") %in% levels(base$status)))
  expect_equal(sum(base$status == "primary"), 2)
  expect_equal(sum(strict$status == "primary"), 3)
  expect_equal(as.character(cell_of(strict, "D2", "M")$status), "primary")
  tib <- protect(tibble::as_tibble(counts), policy_list, progress = FALSE)
  expect_s3_class(tib, "tbl_df")
  skip_if_not_installed("data.table")
  dt <- protect(data.table::as.data.table(counts), policy_list, progress = FALSE)
  expect_s3_class(dt, "data.table")
  expect_identical(as.character(dt$status), as.character(base$status))
})

test_that("round_table, add_noise and perturb keep the table and change the protection", {
  rounded <- round_table(counts, policy_list, base = 5, seed = 11, keep_original = TRUE, progress = FALSE)
  expect_true(all(rounded$published %% 5 == 0))
  expect_true(all(abs(rounded$published - rounded$value) < 5))
  expect_true(all(rounded$status == "rounded"))
  controlled <- round_table(counts, policy_list, method = "controlled", base = 5, progress = FALSE)
  total <- cell_of(controlled, "Total", "Total")$published
  expect_equal(total, sum(controlled$published[controlled$district %in% c("D1", "D2", "D3") & controlled$sex == "Total"]))
  noisy <- add_noise(counts, policy_list, rho = "1/2", seed = 5, progress = FALSE)
  expect_true(all(noisy$status == "noisy") && all(noisy$published >= 0))
  for (d in c("Total", "D1", "D2", "D3")) {
    row <- sapply(c("Total", "F", "M"), function(s) cell_of(noisy, d, s)$published)
    expect_equal(row[[1]], row[[2]] + row[[3]])
  }
  expect_true("sd" %in% names(noisy))
  expect_error(add_noise(counts, policy_list, progress = FALSE), "rho", class = "amparo_policy_error")
  case <- file.path(Sys.getenv("AMPARO_FIXTURES"), "cell_key_microdata")
  skip_if_not(dir.exists(case), "shared fixtures not available")
  perturbed <- perturb(read_table(file.path(case, "input.csv")), file.path(case, "policy.toml"), progress = FALSE)
  expected <- read_table(file.path(case, "expected.csv"))
  expect_identical(perturbed$published, as.integer(expected$published))
})

test_that("round_table and add_noise write the same bytes as the CLI", {
  cli <- file.path(Sys.getenv("CARGO_TARGET_DIR", file.path(Sys.getenv("AMPARO_ROOT"), "target")), "release", "amparo")
  skip_if_not(file.exists(cli), "the CLI is built by cargo test --release (scripts/test.sh)")
  source <- tempfile(fileext = ".csv")
  write_table(counts, source)
  runs <- list(list(method = "rounding", fn = round_table, options = list(base = 5, seed = 11)),
               list(method = "noise", fn = add_noise, options = list(rho = "1/2", seed = 5)))
  for (run in runs) {
    changed <- amparo:::change_policy(amparo_policy(policy_list), run$options, run$method)
    policy_file <- tempfile(fileext = ".toml")
    writeLines(changed$toml, policy_file, sep = "")
    from_cli <- tempfile(fileext = ".csv")
    status <- system2(cli, c("protect", "-p", policy_file, source, "-o", from_cli), stdout = FALSE, stderr = FALSE)
    expect_equal(status, 0)
    from_r <- tempfile(fileext = ".csv")
    write_table(do.call(run$fn, c(list(counts, policy_list, progress = FALSE), run$options)), from_r)
    expect_identical(readBin(from_r, "raw", 1e6), readBin(from_cli, "raw", 1e6), label = run$method)
  }
})

test_that("hierarchies come from nested lists, codes tables and code lengths", {
  regions <- hierarchy_from_tree(list(Total = list(North = c("D1", "D2"), South = "D3")))
  expect_identical(names(regions$tree), c("Total", "North", "South"))
  expect_warning(old <- hierarchy_from_list(list(Total = list(North = c("D1", "D2"), South = "D3"))), "hierarchy_from_tree")
  expect_identical(old, regions)
  expect_error(hierarchy_from_table(data.frame(code = c("D1", "D1"), parent = c("", ""))), "`D1` twice", class = "amparo_data_error")
  p <- modifyList(policy_list, list(dimensions = list(district = regions)))
  p$dimensions$district$codes <- NULL
  out <- suppressWarnings(protect(counts, p, secondary = list(method = "none"), progress = FALSE), classes = "amparo_audit_warning")
  expect_equal(cell_of(out, "North", "Total")$published, 3L + 17L + 20L + 8L)
  table_section <- hierarchy_from_table(data.frame(code = c("N", "D1", "D2", "S", "D3"), parent = c("", "N", "N", NA, "S")))
  expect_identical(table_section$parents$D1, "N")
  expect_identical(table_section$parents$S, "")
  p2 <- policy_list
  p2$dimensions$district <- table_section
  out2 <- protect(counts, p2, progress = FALSE)
  expect_true(all(c("N", "S", "Total") %in% out2$district))
  expect_error(hierarchy_from_table(data.frame(code = "a"), parent = "padre"), "padre", class = "amparo_schema_error")
  places <- data.frame(place = c("05001", "05002", "08001"), n = c(4L, 6L, 9L))
  p3 <- list(version = 1, input = list(kind = "aggregated", count = "n"), dimensions = list(place = hierarchy_from_code_lengths(c(2, 5))))
  out3 <- protect(places, p3, progress = FALSE)
  expect_equal(out3$published[out3$place == "05"], 10L)
  # One code length is still a list in the policy.
  expect_s3_class(amparo_policy(list(version = 1, input = list(kind = "aggregated", count = "n"),
                                     dimensions = list(place = hierarchy_from_code_lengths(5)))), "amparo_policy")
})

test_that("a policy from a list keeps the order of every named list, as Python's does", {
  p <- amparo_policy(list(version = 1, input = list(kind = "aggregated", count = "n"),
                          dimensions = list(sex = list(codes = c("M", "F")), district = list(tree = list(Z = c("b", "a"), A = I("c"))))))
  expect_identical(p$dimensions, c("sex", "district"))
  expect_match(p$toml, "Z = [\"b\", \"a\"]\nA = [\"c\"]", fixed = TRUE)
})

test_that("a policy is validated once and still works after saveRDS/readRDS", {
  p <- amparo_policy(policy_list)
  expect_true(inherits(p$pointer, "externalptr"))
  path <- tempfile(fileext = ".rds")
  saveRDS(p, path)
  restored <- readRDS(path)
  again <- protect(counts, restored, progress = FALSE)
  first <- protect(counts, p, progress = FALSE)
  expect_identical(again$published, first$published)
  expect_identical(again$status, first$status)
  expect_identical(attr(again, "amparo_metadata"), attr(first, "amparo_metadata"))
})

test_that("print and summary describe a result; a failed audit warns with a class", {
  out <- protect(counts, policy_list, progress = FALSE)
  expect_output(print(out), "<amparo_table>")
  s <- summary(out)
  expect_s3_class(s, "summary.amparo_table")
  expect_equal(s$cells, 12)
  expect_equal(unname(s$by_status[["primary"]]), 2)
  expect_output(print(s), "hidden:")
  expect_warning(protect(counts, policy_list, secondary = list(method = "none"), progress = FALSE), class = "amparo_audit_warning")
  leaky <- out
  leaky$published[leaky$status == "primary"][1] <- 3L
  audit_summary <- summary(audit(leaky, policy_list, lang = "en", progress = FALSE))
  expect_s3_class(audit_summary, "summary.amparo_audit")
  expect_false(audit_summary$passed)
  expect_equal(as.integer(audit_summary$findings_by_check[["threshold"]]), 1L)
  expect_output(print(audit_summary), "audit FAILED")
})

test_that("progress is drawn on the console when asked", {
  drawn <- capture.output(invisible(protect(counts, policy_list, progress = TRUE)), type = "message")
  expect_true(any(grepl("amparo: reading rows 6", drawn, fixed = TRUE)))
  quiet <- capture.output(invisible(protect(counts, policy_list, progress = FALSE)), type = "message")
  expect_length(quiet, 0)
})

test_that("bad input from R is a classed error naming the column", {
  na_code <- counts
  na_code$district[2] <- NA
  expect_error(protect(na_code, policy_list), "column `district`", class = "amparo_data_error")
  outside <- counts
  outside$district <- factor(c("D1", "D1", "D2", "D2", "D3", "D9"))
  expect_error(protect(outside, policy_list), "D9", class = "amparo_hierarchy_error")
  negative <- counts
  negative$n[1] <- -3L
  expect_error(protect(negative, policy_list), "`n`", class = "amparo_data_error")
  text <- counts
  text$n <- as.character(text$n)
  text$n[3] <- "veinte"
  expect_error(protect(text, policy_list), "column `n` has `veinte`", class = "amparo_data_error")
  fractional <- counts
  fractional$n <- as.double(fractional$n)
  fractional$n[1] <- 2.5
  expect_error(protect(fractional, policy_list), "count column `n` has 2.5", class = "amparo_data_error")
  expect_error(protect(list(a = 1), policy_list), "data.frame", class = "amparo_schema_error")
  codes_as_int <- data.frame(age = c(1L, 2L), n = c(7L, 9L))
  out <- protect(codes_as_int, list(version = 1, input = list(kind = "aggregated", count = "n"), dimensions = list(age = list())), progress = FALSE)
  expect_true(all(c("1", "2", "Total") %in% out$age))
})

test_that("a list policy is the policy file it spells out: the user's order and the same SHA-256", {
  # tests/policies/dimension_order.toml, shared with the Rust tests and pytest.
  skip_if(fixtures_dir() == "", "the repository's tests/ folder is not here (R CMD check of the tarball)")
  path <- file.path(dirname(fixtures_dir()), "policies", "dimension_order.toml")
  built <- amparo_policy(list(
    version = 1, input = list(kind = "microdata"),
    dimensions = list(district = list(), nationality = list(), age_band = list()),
    primary = list(threshold = 5)
  ))
  expect_identical(built$dimensions, c("district", "nationality", "age_band"))
  expect_identical(built$sha256, amparo_policy(path)$sha256)
})

test_that("a near miss of an argument in ... is named as the argument, for every method", {
  for (method in list(protect, round_table, perturb, add_noise)) {
    expect_error(
      method(counts, policy_list, keep_origin = TRUE, progress = FALSE),
      "`keep_origin` is neither an argument of this function \\(keep_original, progress\\).*did you mean `keep_original`\\?",
      class = "amparo_policy_error"
    )
  }
  expect_error(round_table(counts, policy_list, bse = 5, progress = FALSE), "unknown key `bse`; did you mean `base`", class = "amparo_policy_error")
})
