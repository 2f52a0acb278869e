export { type AvroBenchOptions, benchAvro } from "./avro-bench.ts";
export { benchDelay, type DelayBenchOptions } from "./delay-bench.ts";
export { formatTable, percentile } from "./stats.ts";
export { benchWrite, type WriteBenchOptions } from "./write-bench.ts";
