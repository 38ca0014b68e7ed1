library(testthat)
library(amparo)
test_check("amparo")
