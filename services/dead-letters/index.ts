export {
  DeadLetterService,
  type DeadLetterServiceOptions,
  type ListedDeadLetter,
  type RedriveRequest,
  type RedriveResult,
  redrivenFromHeader,
} from "./dead-letter-service.ts";
