export { applyTopology, readAndPlan } from "./apply.ts";
export {
  describeAction,
  type ExistingState,
  type PlanOptions,
  planTopology,
  type TopicRole,
  type TopologyAction,
  type TopologyPlan,
} from "./plan.ts";
