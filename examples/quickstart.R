# Amparo from R: the bundled example (synthetic microdata of 3,000 migrant
# children) protected three ways, published (CSV and Excel) and audited.
#
#   Rscript examples/quickstart.R [output folder]    (default: examples/out)
#
# Needs the amparo R package (R CMD INSTALL r). Mirrors examples/quickstart.py.

library(amparo)

args <- commandArgs(trailingOnly = TRUE)
here <- if (file.exists("examples/children.csv")) "examples" else system.file("extdata", package = "amparo")
out_dir <- if (length(args) > 0) args[[1]] else file.path("examples", "out")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

children <- read_table(file.path(here, "children.csv"))  # every column as text: codes keep leading zeros
policy <- amparo_policy(file.path(here, "policy.toml"))
cat(sprintf("%s children; policy '%s' (%s)\n", format(nrow(children), big.mark = ","), policy$name, substr(policy$sha256, 1, 12)))

# 1. Cell suppression, as the policy says: a threshold of 5 and interval secondary suppression.
suppressed <- protect(children, policy, progress = FALSE)
cat(sprintf("suppression: %d cells, %d hidden\n", nrow(suppressed), sum(suppressed$status != "published")))

# 2. The same table rounded to base 5 (controlled: the margins still add up).
rounded <- round_table(children, policy, method = "controlled", base = 5, progress = FALSE)
cat(sprintf("rounding:    every count a multiple of 5; total %s\n", format(rounded$published[1], big.mark = ",")))

# 3. The same table with differential privacy noise (discrete Gaussian, rho = 1/2).
noisy <- add_noise(children, policy, rho = "1/2", progress = FALSE)
cat(sprintf("noise:       total %s, per-cell sd in column `sd`\n", format(noisy$published[1], big.mark = ",")))

# The tables above are the producer's: their status, reason, interval and sd
# columns are NOT for publication. publish() writes what people may see (the
# dimensions and the published values, hidden cells marked `x`) with the
# policy each table was made with, and refuses a table whose audit failed.
for (name in c("suppressed", "rounded", "noisy")) {
  for (ext in c("csv", "xlsx")) {
    path <- file.path(out_dir, paste0(name, ".", ext))
    publish(get(name), path = path, overwrite = TRUE)
    cat(sprintf("published:   %s\n", path))
  }
}

# The publication gate: audit the file as it is published.
report <- audit(file.path(out_dir, "suppressed.csv"), policy, lang = "en", progress = FALSE)
cat(sprintf("audit:       %s (%d hidden cells checked)\n", if (report$passed) "passed" else "FAILED", as.integer(report$hidden_cells)))
write_audit_report(report, file.path(out_dir, "audit.html"))
if (!report$passed) quit(status = 1)
