export { Processor, type ProcessorOptions } from "./processor.ts";
