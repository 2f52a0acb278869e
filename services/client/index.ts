export {
  type Durability,
  WalClient,
  type WalClientOptions,
  type WriteInput,
  type WriteOutcome,
} from "./wal-client.ts";
