# Locate the shared fixtures (tests/fixtures at the repository root).
fixtures_dir <- function() {
  candidates <- c(Sys.getenv("AMPARO_FIXTURES"), file.path("..", "..", "..", "tests", "fixtures"))
  for (d in candidates) if (nzchar(d) && dir.exists(d)) return(normalizePath(d))
  ""
}

# The few keys of case.toml the tests need, read without a TOML package.
read_case <- function(dir) {
  lines <- readLines(file.path(dir, "case.toml"), warn = FALSE)
  value_of <- function(key) {
    hit <- grep(paste0("^", key, "\\s*="), lines, value = TRUE)
    if (length(hit) == 0) return(NULL)
    trimws(sub("^[^=]*=", "", hit[[1]]))
  }
  keep <- identical(value_of("keep_original"), "true")
  output <- value_of("output")
  if (!is.null(output)) output <- gsub('"', "", output)
  kind <- value_of("kind")
  contains <- value_of("contains")
  if (!is.null(kind)) kind <- gsub('"', "", kind)
  if (!is.null(contains)) {
    contains <- regmatches(contains, gregexpr('"([^"\\\\]|\\\\.)*"', contains))[[1]]
    contains <- gsub('^"|"$', "", contains)
  }
  list(keep_original = keep, error_kind = kind, contains = contains, output = output)
}

fixture_cases <- function() {
  d <- fixtures_dir()
  if (!nzchar(d)) return(character())
  cases <- list.dirs(d, recursive = FALSE)
  cases[file.exists(file.path(cases, "case.toml"))]
}

# The cells of a protected table as an outsider sees them: the dimension
# columns and `published`, nothing else.
outsider_view <- function(df) {
  names <- names(df)
  stop <- which(names %in% c("value", "published"))[1]
  df[, c(names[seq_len(stop - 1L)], "published"), drop = FALSE]
}

# The first sheet of a workbook as CSV text (whole numbers without a decimal point).
first_sheet_as_csv <- function(path) {
  sheet <- readxl::read_xlsx(path, sheet = 1, col_names = FALSE, col_types = "text", .name_repair = "minimal")
  lines <- apply(as.matrix(sheet), 1, function(row) paste(ifelse(is.na(row), "", row), collapse = ","))
  paste0(paste(lines, collapse = "\n"), "\n")
}
