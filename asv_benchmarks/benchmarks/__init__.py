"""asv benchmarks for xpnet; see ``asv_benchmarks/README.md`` for how to run them offline."""
