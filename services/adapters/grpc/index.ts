export {
  loadWalService,
  maxGrpcMessageBytes,
  type WriteToLogRequestWire,
  type WriteToLogResponseWire,
  walProtoPath,
} from "./proto.ts";
