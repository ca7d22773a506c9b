"""Development tooling: the Bot API emulator and the benchmarks (not part of the product)."""
