export { benchWrite, type WriteBenchOptions } from "./write-bench.ts";
