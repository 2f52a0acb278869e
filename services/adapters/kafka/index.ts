export { createIdempotentProducer, createKafka, type KafkaConnection } from "./client.ts";
export { KafkaLogAppender, type KafkaLogAppenderOptions } from "./log-appender.ts";
export { RecyclingProducer } from "./recycling-producer.ts";
export {
  isFencedError,
  type SliceOffset,
  type SliceOutput,
  SliceProducer,
} from "./slice-producer.ts";
export {
  type FetchedRecord,
  type OfferAnswer,
  SlicedConsumer,
  type SlicedConsumerOptions,
  type SliceListener,
} from "./sliced-consumer.ts";
export {
  type ReadStart,
  readTopicRange,
  readWholeTopic,
  type StoredRecord,
} from "./topic-reader.ts";
export { KafkaTopicTarget } from "./topic-target.ts";
export { deleteNamespaceTopics, ensureNamespaceTopics } from "./topics.ts";
