fn main() -> std::process::ExitCode {
    realnvp::cli::main()
}
