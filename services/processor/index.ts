export { deliverInPlace, nextDelayMs } from "./deliver.ts";
export { Processor, type ProcessorOptions } from "./processor.ts";
