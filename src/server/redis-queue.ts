/** BullMQ on Redis behind the JobQueue interface (not yet: `svd serve --redis` says so). */
import type { JobManager } from './jobs.ts';
import type { CancelOutcome, JobQueue } from './queue.ts';

export class RedisQueue implements JobQueue {
  readonly kind = 'redis';
  static async open(_jobs: JobManager, _url: string, _name?: string): Promise<RedisQueue> {
    throw new Error('svd serve --redis is not done yet');
  }
  async submit(_id: string): Promise<void> {}
  position(_id: string): number | undefined {
    return undefined;
  }
  async cancel(_id: string): Promise<CancelOutcome> {
    return 'absent';
  }
  async close(): Promise<void> {}
}
