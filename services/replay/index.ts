export { parseStartOffsets, type ReplayRequest, type ReplayResult, replayLog } from "./replay.ts";
