// The map's shading: equal steps of a round size from zero to the largest quantity, so the legend
// reads "up to 2,000", "over 2,000 to 4,000", … and a country's shade says roughly how much it got.

/** The colour steps the stylesheet defines (.shade-0 lightest … .shade-4 darkest). */
export const SHADES = 5;

/** The smallest 1, 2, 2.5 or 5 × 10ⁿ at least `value`: a step a reader can add up in their head. */
export function roundStep(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= value * (1 - 1e-9));
}

/**
 * The steps for quantities up to `max`: at most SHADES of them, each `{from, to, shade}` covering
 * (from, to]. Fewer steps use the darker shades, so the largest quantity is always the darkest.
 */
export function shadeSteps(max) {
  if (!(max > 0)) return [];
  const size = roundStep(max / SHADES);
  const count = Math.min(SHADES, Math.max(1, Math.ceil(max / size - 1e-9)));
  const at = (i) => Number((i * size).toPrecision(12)); // 3 × 0.2 is 0.6, not 0.6000000000000001
  return Array.from({ length: count }, (_, i) => ({ from: at(i), to: at(i + 1), shade: SHADES - count + i }));
}

/** The step a positive quantity falls in (its upper bound included). */
export function stepOf(quantity, steps) {
  const size = steps[0].to;
  return steps[Math.min(steps.length - 1, Math.max(0, Math.ceil(quantity / size - 1e-9) - 1))];
}
