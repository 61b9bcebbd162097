/** A span of text to mask as `[REDACTED:<kind>]`. */
export interface Finding {
  start: number;
  end: number;
  kind: string;
  /** Lower wins when two findings overlap. */
  priority: number;
}

/** Appends its findings in `text` to `out`. */
export type Detector = (text: string, out: Finding[]) => void;

export const PRIORITY = {
  configured: 0,
  knownSecret: 1,
  genericSecret: 2,
  financial: 3,
  email: 4,
  phone: 5,
} as const;

/**
 * Keeps findings that do not overlap: by priority, then the longer one, then the earlier one.
 * Returned sorted by position.
 */
export function resolveOverlaps(findings: Finding[]): Finding[] {
  if (findings.length <= 1) return findings;
  const ranked = [...findings].sort(
    (a, b) => a.priority - b.priority || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const kept: Finding[] = [];
  for (const candidate of ranked) {
    if (!kept.some((other) => candidate.start < other.end && other.start < candidate.end)) kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}
