// Runs advanceTime(now) for every merchant with a program, every `intervalMs`.
import type { PrismaClient } from '@prisma/client';
import { advanceTime } from './members.ts';

export function startAdvanceSchedule(prisma: PrismaClient, intervalMs: number): () => void {
  let running = false;
  const tick = async () => {
    if (running) return; // a slow run is never overlapped by the next
    running = true;
    try {
      const merchants = await prisma.programVersion.findMany({ where: { active: true }, select: { merchantId: true } });
      for (const { merchantId } of merchants) {
        const r = await advanceTime({ prisma, merchantId }, null);
        if (r.entries > 0) console.log(`advanceTime: merchant ${merchantId}: ${r.members} members, ${r.entries} entries`);
      }
    } catch (error) {
      console.error('advanceTime schedule failed:', error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
