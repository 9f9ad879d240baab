//! The deploy engine: phases over hosts with bounded concurrency, one dry-run choke point, an on-disk journal for resume
