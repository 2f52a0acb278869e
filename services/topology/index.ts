export { applyTopology, readAndPlan } from "./apply.ts";
export {
  describeAction,
  type ExistingState,
  type PlanOptions,
  planTopology,
  type TopologyAction,
  type TopologyPlan,
} from "./plan.ts";
