fn main() -> anyhow::Result<()> {
    realnvp::cli::main()
}
