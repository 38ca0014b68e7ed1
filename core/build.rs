// No build step: this script exists so that `[build-dependencies]` in
// Cargo.toml take part in feature unification (see the note there).
fn main() {}
