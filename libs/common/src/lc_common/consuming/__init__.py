"""The parts of the consumer runner (`lc_common.consumer`), one job each.

- `spec`: what a service declares (`ConsumerSpec`) and what a handler may ask
  (`current_partition`);
- `strategies`: how a consumer takes its events (`Single`, `Lanes`, `Bulk`);
- `records`: the one record path (decode, handle with retries, dead-letter) and the
  dead-letter headers;
- `offsets`: per partition, the offsets in flight and the next one safe to commit;
- `flight`: the work in flight and what a strategy's loop may use of its runner;
- `single`, `lane_loop`, `bulk`: each strategy's loop;
- `runner`: the consumer's life, rebalances and commits; `start_consumers`.

Services import from `lc_common.consumer`, which re-exports the public names.
"""
