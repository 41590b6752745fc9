// Runs advanceTime(now) for every merchant with a program, every `intervalMs`.
// A member that fails is logged and retried by the next run; a merchant that
// fails (its program cannot be loaded) does not stop the others.
import type { PrismaClient } from '@prisma/client';
import type { Logger } from 'pino';
import { recordAdvanceTimeRun } from '../metrics.ts';
import { advanceTime } from './members.ts';

export function startAdvanceSchedule(prisma: PrismaClient, intervalMs: number, logger: Logger): () => void {
  let running = false;
  const tick = async () => {
    if (running) return; // a slow run is never overlapped by the next
    running = true;
    try {
      const merchants = await prisma.programVersion.findMany({ where: { active: true }, select: { merchantId: true } });
      for (const { merchantId } of merchants) {
        const started = performance.now();
        try {
          const r = await advanceTime({ prisma, merchantId }, null, (memberId, error) =>
            logger.error({ err: error, merchantId, memberId }, 'advanceTime failed for a member'),
          );
          recordAdvanceTimeRun({ trigger: 'schedule', changed: r.members, failed: r.failed, entries: r.entries, seconds: (performance.now() - started) / 1000 });
          if (r.members > 0 || r.failed > 0) logger.info({ merchantId, members: r.members, entries: r.entries, failed: r.failed }, 'advanceTime');
        } catch (error) {
          logger.error({ err: error, merchantId }, 'advanceTime failed for a merchant');
        }
      }
    } catch (error) {
      logger.error({ err: error }, 'advanceTime schedule failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
