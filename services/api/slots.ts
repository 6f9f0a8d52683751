/** A counting semaphore whose waiters give up after a deadline, and which refuses outright when its queue is full. */
export function slots(size: number, maxWaiting: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    take(deadlineMs: number): Promise<boolean> {
      if (free > 0) {
        free--;
        return Promise.resolve(true);
      }
      if (waiting.length >= maxWaiting) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const granted = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          const i = waiting.indexOf(granted);
          if (i >= 0) waiting.splice(i, 1);
          resolve(false);
        }, deadlineMs);
        waiting.push(granted);
      });
    },
    give(): void {
      const next = waiting.shift();
      if (next !== undefined) next();
      else free++;
    },
  };
}
