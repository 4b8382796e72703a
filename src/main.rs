fn main() {
    std::process::exit(tgmux::cli::main());
}
