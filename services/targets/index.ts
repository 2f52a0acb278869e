export { TargetRegistry } from "./target-factory.ts";
