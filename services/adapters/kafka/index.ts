export { createIdempotentProducer, createKafka, type KafkaConnection } from "./client.ts";
export { KafkaLogAppender, type KafkaLogAppenderOptions } from "./log-appender.ts";
export {
  type BatchHandler,
  type FetchedRecord,
  KafkaLogConsumer,
  type LogConsumerOptions,
  type PartitionWork,
} from "./log-consumer.ts";
export { RecyclingProducer } from "./recycling-producer.ts";
export { KafkaTopicTarget } from "./topic-target.ts";
export { ensureNamespaceTopics } from "./topics.ts";
