"""The parts of the consumer runner (`lc_common.consumer`), one job each.

- `spec`: what a service declares (`ConsumerSpec`, `PartitionLimits`) and what a
  handler may ask (`current_partition`);
- `offsets`: per partition, the offsets in flight and the next one safe to commit;
- `records`: the fate of one record (decode, handle with retries, dead-letter);
- `lane_loop`: the lanes loop (per-partition bounds, pausing, at-most-once starts).

Services import from `lc_common.consumer`, which re-exports the public names.
"""
