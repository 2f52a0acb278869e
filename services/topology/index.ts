export { applyTopology, readAndPlan } from "./apply.ts";
export {
  describeAction,
  type ExistingState,
  planTopology,
  type TopologyAction,
  type TopologyPlan,
} from "./plan.ts";
