/**
 * The known key an operator most likely meant, for "unknown key" messages (`bufer` → `buffer`).
 * Case-insensitive Levenshtein distance; no suggestion when nothing is close, because a wrong
 * guess is worse than none.
 */
export function nearestKey(word: string, known: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  // One typo per three letters, at least two: `bufer`, `memoryitem`, `flushIntervalMS` match;
  // `xyz` suggests nothing.
  return best !== null && bestDistance <= Math.max(2, Math.floor(w.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
