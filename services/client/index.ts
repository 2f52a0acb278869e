export {
  type Durability,
  WalClient,
  type WalClientOptions,
  type WriteInput,
  type WriteOutcome,
} from "./wal-client.ts";
export {
  type ProduceOptions,
  type ProduceReceipt,
  type ProducerTls,
  WalProducer,
  type WalProducerOptions,
} from "./wal-producer.ts";
