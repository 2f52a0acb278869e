export { describeNatsServer, type NatsState, type NatsStatus } from "./connection.ts";
export {
  createNamespaceChangePublisher,
  type NamespaceChanged,
  type NamespaceChangePublisher,
  type NamespaceChangeSubscriber,
  type NatsClientOptions,
  namespaceChangesSubject,
  type SubscribeOptions,
  subscribeNamespaceChanges,
} from "./namespace-changes.ts";
