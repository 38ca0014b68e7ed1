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
  kind <- value_of("kind")
  contains <- value_of("contains")
  if (!is.null(kind)) kind <- gsub('"', "", kind)
  if (!is.null(contains)) {
    contains <- regmatches(contains, gregexpr('"([^"\\\\]|\\\\.)*"', contains))[[1]]
    contains <- gsub('^"|"$', "", contains)
  }
  list(keep_original = keep, error_kind = kind, contains = contains)
}

fixture_cases <- function() {
  d <- fixtures_dir()
  if (!nzchar(d)) return(character())
  cases <- list.dirs(d, recursive = FALSE)
  cases[file.exists(file.path(cases, "case.toml"))]
}
