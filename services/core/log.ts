/** A record to append to a WAL topic. */
export interface LogRecord {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * The producer-side port of the log. `append` resolves only once the broker
 * has acknowledged the record with acks=all; it rejects with a WalError
 * whose code says what is known: WAL_LOG_UNAVAILABLE (nothing was written)
 * or WAL_LOG_OUTCOME_UNKNOWN (sent, not confirmed).
 */
export interface LogAppender {
  append(record: LogRecord, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
