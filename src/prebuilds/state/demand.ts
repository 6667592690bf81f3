/** The claim windows of DESIGN.md rule 12, shortest first. */
export const DEMAND_WINDOWS = ['5m', '10m', '30m', '60m', '120m'] as const;
export type DemandWindow = (typeof DEMAND_WINDOWS)[number];

export function windowMinutes(window: DemandWindow): number {
  return Number(window.slice(0, -1));
}

export type WindowCounts = Readonly<Record<DemandWindow, number>>;

/** Claims served by a prebuild, and misses (a claim that had to build), in each window ending at the cycle's `now`. */
export interface DemandRow {
  presetId: string;
  claims: WindowCounts;
  misses: WindowCounts;
}

export const NO_DEMAND: WindowCounts = Object.freeze({ '5m': 0, '10m': 0, '30m': 0, '60m': 0, '120m': 0 });

/** claims / (claims + misses) per window; null where nobody asked. */
export function hitRates(claims: WindowCounts, misses: WindowCounts): Record<DemandWindow, number | null> {
  const rates = {} as Record<DemandWindow, number | null>;
  for (const w of DEMAND_WINDOWS) {
    const asked = claims[w] + misses[w];
    rates[w] = asked === 0 ? null : claims[w] / asked;
  }
  return rates;
}
