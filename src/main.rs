fn main() {
    std::process::exit(cilium_ipt::cli::run(std::env::args_os()));
}
