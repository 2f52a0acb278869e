export {
  DeadLetterService,
  type DeadLetterServiceOptions,
  type ListedDeadLetter,
  type RedriveRequest,
  type RedriveResult,
} from "./dead-letter-service.ts";
