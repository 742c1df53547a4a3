/** A binary min-heap of timed callbacks for the discrete-event simulation (FIFO among equal times). */

interface Entry {
  atMs: number;
  order: number;
  fire: () => void;
}

export class EventQueue {
  private readonly heap: Entry[] = [];
  private order = 0;

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, fire: () => void): void {
    const heap = this.heap;
    const entry: Entry = { atMs, order: this.order++, fire };
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Removes and returns the earliest entry, or undefined when empty. */
  pop(): { atMs: number; fire: () => void } | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[child]!, last)) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}
