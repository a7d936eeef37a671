// Seeded randomness for tie-breaking: the same seed gives the same sequence on every machine.

/** A generator of floats in [0, 1) from a string seed (FNV-1a hash feeding mulberry32). */
export function seededRandom(seed: string): () => number {
  let state = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    state ^= seed.charCodeAt(i);
    state = Math.imul(state, 0x01000193);
  }
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Fisher–Yates shuffled copy of `items`, driven by `random`. */
export function shuffled<TItem>(items: readonly TItem[], random: () => number): TItem[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = out[i] as TItem;
    out[i] = out[j] as TItem;
    out[j] = swap;
  }
  return out;
}
