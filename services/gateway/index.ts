export { type GatewayOptions, type RunningGateway, startGateway } from "./gateway.ts";
export { type WriteHandlerOptions, WriteHandler, type WriteResult } from "./write-handler.ts";
