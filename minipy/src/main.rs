//! The `minipy` binary: see the crate documentation of `minipy` and
//! `minipy::cli` for the command line.

fn main() {
    minipy::run::main()
}
