import type { Kafka } from "kafkajs";
import { WebhookTarget } from "../adapters/http/index.ts";
import {
  createIdempotentProducer,
  KafkaTopicTarget,
  RecyclingProducer,
} from "../adapters/kafka/index.ts";
import { MemcachedTarget } from "../adapters/memcached/index.ts";
import type { Target, TargetConfig } from "../core/index.ts";
import type { Logger } from "../observability/index.ts";

/**
 * Builds and caches one adapter per declared target. Adding a destination
 * type means one adapter and one case here; nothing else changes.
 */
export class TargetRegistry {
  private readonly targets = new Map<string, Promise<Target>>();
  private producer: RecyclingProducer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
  ) {}

  /** The adapter for `config`, created on first use and shared by equal configs. */
  get(config: TargetConfig): Promise<Target> {
    const cacheId = JSON.stringify(config);
    let target = this.targets.get(cacheId);
    if (target === undefined) {
      target = this.create(config);
      this.targets.set(cacheId, target);
    }
    return target;
  }

  async close(): Promise<void> {
    await Promise.all([...this.targets.values()].map(async (t) => (await t).close()));
    this.targets.clear();
    await this.producer?.disconnect();
  }

  private async create(config: TargetConfig): Promise<Target> {
    switch (config.type) {
      case "memcached":
        return new MemcachedTarget(config, this.logger);
      case "webhook":
        return new WebhookTarget(config);
      case "kafka-topic":
        return new KafkaTopicTarget(this.sharedProducer(), config.topic);
    }
  }

  private sharedProducer(): RecyclingProducer {
    this.producer ??= new RecyclingProducer(() => createIdempotentProducer(this.kafka));
    return this.producer;
  }
}
