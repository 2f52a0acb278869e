export { formatTable, percentile } from "./stats.ts";
export { benchWrite, type WriteBenchOptions } from "./write-bench.ts";
