fn main() -> std::process::ExitCode {
    realnvp::cli::main(std::env::args_os().collect())
}
