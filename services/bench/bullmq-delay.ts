import { randomBytes } from "node:crypto";
import { type Job, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";

export interface DelayedJobsRun {
  /** One delayed job per entry, due this many milliseconds after it is enqueued. */
  delaysMs: number[];
  /** Redis to run against, e.g. redis://127.0.0.1:6379 (see infra/redis.sh). */
  redisUrl: string;
  /** Worker concurrency, default 16. */
  concurrency?: number;
  /** How long to wait for the jobs to run; default the longest delay plus 60 s. */
  timeoutMs?: number;
}

export interface DelayedJobsResult {
  /** Per job that ran, in the order they ran: its delay, and its start minus its due time (negative when early). */
  samples: { delayMs: number; latenessMs: number }[];
  /** Jobs whose processing started before their due time (included in latenessMs). */
  early: number;
  /** Jobs that had not started when the run timed out. */
  missing: number;
}

interface DelayedJobData {
  /** Wall-clock time (ms since the epoch) at which the job is due. */
  due: number;
  delay: number;
}

/** Jobs per addBulk call: one pipeline per batch, so a large run does not build one huge request. */
const ADD_BATCH = 1000;

/**
 * The baseline for delayed-delivery lateness: BullMQ delayed jobs on Redis.
 *
 * One Worker (in this process) with `concurrency` slots processes every job;
 * each job's lateness is taken when its processor starts. The queue has a
 * fresh random name and is obliterated afterwards, so nothing is left in Redis.
 *
 * BullMQ settings are its defaults. What governs when a delayed job starts:
 * there is no separate scheduler; a delayed job sits in the queue's "delayed"
 * sorted set until a worker's moveToActive script (run whenever the worker
 * fetches a job) moves the due ones to "wait". An idle worker sleeps in a
 * BZPOPMIN on the queue's marker key with a timeout up to the next delayed
 * job's due time (that is the worker's delay timer: at least 1 ms on Redis
 * >= 7.0.8, at most 10 s, else `drainDelay`, 5 s); adding a job that becomes
 * due earlier wakes it through the marker. A blocked command's timeout is
 * enforced by Redis's event loop, whose timer runs `hz` times a second
 * (default 10), which can add to the lateness. Busy slots (`concurrency`)
 * and a rate `limiter` (none here) delay the fetch too.
 */
export async function measureBullmqLateness(run: DelayedJobsRun): Promise<DelayedJobsResult> {
  const name = `wal-bench-${randomBytes(6).toString("hex")}`;
  // Connections made here rather than by BullMQ from options: it loads the optional ioredis
  // driver lazily with require(), which only works from its CommonJS build. A Worker requires
  // maxRetriesPerRequest: null; it duplicates its connection for the blocking BZPOPMIN.
  const queueConnection = await connect(run.redisUrl);
  let workerConnection: Redis;
  try {
    workerConnection = await connect(run.redisUrl);
  } catch (error) {
    queueConnection.disconnect();
    throw error;
  }
  const resources: Resources = { queueConnection, workerConnection };
  let result: DelayedJobsResult;
  try {
    result = await runJobs(run, name, resources);
  } catch (error) {
    await release(resources).catch(() => {});
    throw error;
  }
  await release(resources).catch((error: unknown) => {
    throw new Error(`BullMQ queue ${name}: cleanup failed`, { cause: error });
  });
  return result;
}

/**
 * Opens a connection, failing at once when Redis is unreachable (the retries of a connection
 * with maxRetriesPerRequest: null would otherwise wait for it forever).
 */
async function connect(url: string): Promise<Redis> {
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  // Until BullMQ listens, this listener keeps ioredis from printing connection errors itself;
  // it keeps the socket's error (connect() itself only rejects with "Connection is closed").
  let socketError: unknown;
  const onError = (error: unknown) => {
    socketError ??= error;
  };
  client.on("error", onError);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`cannot connect to Redis at ${url}`, { cause: socketError ?? error });
  } finally {
    client.off("error", onError);
  }
  return client;
}

interface Resources {
  queueConnection: Redis;
  workerConnection: Redis;
  queue?: Queue<DelayedJobData>;
  worker?: Worker<DelayedJobData>;
}

async function runJobs(
  run: DelayedJobsRun,
  name: string,
  resources: Resources,
): Promise<DelayedJobsResult> {
  const { delaysMs } = run;
  const concurrency = run.concurrency ?? 16;
  const timeoutMs = run.timeoutMs ?? delaysMs.reduce((max, d) => Math.max(max, d), 0) + 60_000;
  let failure: unknown;
  const queue = new Queue<DelayedJobData>(name, { connection: resources.queueConnection });
  resources.queue = queue;
  queue.on("error", (error) => {
    failure ??= error;
  });

  const samples: { delayMs: number; latenessMs: number }[] = [];
  const started = new Set<string>();
  let early = 0;
  let finish = () => {};
  const allStarted = new Promise<void>((resolve) => {
    finish = resolve;
  });
  if (delaysMs.length === 0) finish();

  const processor = async (job: Job<DelayedJobData>): Promise<void> => {
    const lateness = Date.now() - job.data.due;
    // A job run a second time (after a stalled-job recovery) counts once, with its first start.
    const id = job.id ?? "";
    if (started.has(id)) return;
    started.add(id);
    samples.push({ delayMs: job.data.delay, latenessMs: lateness });
    if (lateness < 0) early += 1;
    if (started.size === delaysMs.length) finish();
  };
  const worker = new Worker<DelayedJobData>(name, processor, {
    connection: resources.workerConnection,
    concurrency,
  });
  resources.worker = worker;
  worker.on("error", (error) => {
    failure ??= error;
  });
  // The worker is connected and fetching before the first job is added.
  await worker.waitUntilReady();
  await queue.waitUntilReady();

  for (let first = 0; first < delaysMs.length; first += ADD_BATCH) {
    const batch = delaysMs.slice(first, first + ADD_BATCH);
    const now = Date.now();
    // timestamp: BullMQ's own due time (timestamp + delay) is then exactly job.data.due.
    await queue.addBulk(
      batch.map((delay, i) => ({
        name: `job-${first + i}`,
        data: { due: now + delay, delay },
        opts: { delay, timestamp: now },
      })),
    );
  }

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([allStarted, timedOut]);
  clearTimeout(timer);

  const missing = delaysMs.length - started.size;
  if (missing > 0 && failure !== undefined) {
    throw new Error(`BullMQ queue ${name}: ${missing} of ${delaysMs.length} jobs did not run`, {
      cause: failure,
    });
  }
  // Copies: a late duplicate start while closing must not change the returned result.
  return { samples: [...samples], early, missing };
}

/**
 * Closes the worker and the queue, removes every key of the queue, and closes the
 * connections. Every step runs even when an earlier one fails; rejects with the first failure.
 */
async function release(resources: Resources): Promise<void> {
  const { queue, worker, queueConnection, workerConnection } = resources;
  // force: jobs may still be delayed or active when the run timed out.
  const steps: (() => Promise<unknown> | undefined)[] = [
    () => worker?.close(true),
    () => queue?.obliterate({ force: true }),
    () => queue?.close(),
    () => queueConnection.quit(),
    () => workerConnection.quit(),
  ];
  let firstError: unknown;
  let failed = false;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!failed) firstError = error;
      failed = true;
    }
  }
  if (failed) throw firstError;
}
