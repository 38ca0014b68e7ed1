// Calls the routine registration that extendr generates for the Rust library.
void R_init_amparo_extendr(void *dll);

void R_init_amparo(void *dll) {
    R_init_amparo_extendr(dll);
}
