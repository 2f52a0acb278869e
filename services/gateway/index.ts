export { type GatewayOptions, type RunningGateway, startGateway } from "./gateway.ts";
export { WriteHandler, type WriteHandlerOptions, type WriteResult } from "./write-handler.ts";
