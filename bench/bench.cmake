# Benchmarks: see bench/README.md. Targets are added below as they land.
