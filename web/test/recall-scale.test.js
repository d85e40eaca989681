// The map's shading: round step sizes, the steps up to the largest quantity, and the step of a quantity.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { SHADES, roundStep, shadeSteps, stepOf } from "../src/recall-scale.js";

const MULTIPLES = [1, 2, 2.5, 5];
/** Every 1, 2, 2.5 or 5 × 10ⁿ over the magnitudes the tests use, parsed from decimal text. */
const NICE = Array.from({ length: 31 }, (_, i) => i - 15)
  .flatMap((n) => MULTIPLES.map((m) => Number(`${m}e${n}`)))
  .sort((a, b) => a - b);

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
const isNice = (step) => NICE.some((nice) => close(nice, step));

/** Positive quantities over many magnitudes, the same every run (a small linear congruential generator). */
function quantities(count, seed = 7) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => (1 + 9 * next()) * 10 ** Math.floor(next() * 12 - 4));
}
/** Maxima to shade: round ones, ones just past a round one, and arbitrary ones. */
const ROUND_MAXIMA = NICE.filter((n) => n >= 1e-6 && n <= 1e12);
const MAXIMA = [...ROUND_MAXIMA, ...ROUND_MAXIMA.map((n) => n * 1.01), 7, 11, 99, 101, 0.37,
  12345, 999999, ...quantities(200)];

describe("roundStep", () => {
  test("a round value is its own step", () => {
    for (const nice of NICE) assert.ok(close(roundStep(nice), nice), `${nice} became ${roundStep(nice)}`);
  });

  test("every value gets the smallest 1, 2, 2.5 or 5 × 10ⁿ at least as large", () => {
    for (const value of quantities(500)) {
      const smallest = NICE.find((nice) => nice >= value);
      assert.ok(close(roundStep(value), smallest), `${value} became ${roundStep(value)}, not ${smallest}`);
    }
  });

  test("a value just past a round step goes to the next one", () => {
    for (let i = 0; i + 1 < NICE.length; i++) {
      const value = NICE[i] * 1.001;
      assert.ok(close(roundStep(value), NICE[i + 1]), `${value} became ${roundStep(value)}, not ${NICE[i + 1]}`);
    }
  });

  test("zero, a negative value or no number at all gets a step of 1", () => {
    for (const value of [0, -5, NaN, undefined]) assert.equal(roundStep(value), 1);
  });
});

describe("shadeSteps", () => {
  test("nothing to shade makes no steps", () => {
    for (const max of [0, -1, NaN, undefined]) assert.deepEqual(shadeSteps(max), []);
  });

  test("there are at least one and at most SHADES steps", () => {
    for (const max of MAXIMA) {
      const count = shadeSteps(max).length;
      assert.ok(count >= 1 && count <= SHADES, `${count} steps for ${max}`);
    }
  });

  test("the steps start at zero and follow each other without gaps, all of one round size", () => {
    for (const max of MAXIMA) {
      const steps = shadeSteps(max);
      const size = steps[0].to - steps[0].from;
      assert.equal(steps[0].from, 0, `first step of ${max}`);
      assert.ok(isNice(size), `step size ${size} for ${max} is not round`);
      steps.forEach((step, i) => {
        if (i > 0) assert.equal(step.from, steps[i - 1].to, `gap before step ${i} of ${max}`);
        assert.ok(close(step.to - step.from, size), `step ${i} of ${max} is not ${size} wide`);
      });
    }
  });

  test("the top step holds the largest quantity, so no step is left empty", () => {
    for (const max of MAXIMA) {
      const top = shadeSteps(max).at(-1);
      assert.ok(top.from < max && max <= top.to * (1 + 1e-9), `${max} is outside the top step (${top.from}, ${top.to}]`);
    }
  });

  test("the shades run up to the darkest, so fewer steps use the darker shades", () => {
    for (const max of MAXIMA) {
      const steps = shadeSteps(max);
      const shades = steps.map((step) => step.shade);
      const expected = steps.map((_, i) => SHADES - steps.length + i);
      assert.deepEqual(shades, expected, `shades for ${max}`);
    }
  });

  test("step bounds are the decimal numbers a legend shows, without floating-point noise", () => {
    // Shading up to 1 takes five steps of 0.2; 3 × 0.2 in floating point is 0.6000000000000001.
    // A division of integers is correctly rounded, so (2 × i) / 10 is exactly the double nearest 0.2 × i.
    const bounds = shadeSteps(1).map((step) => step.to);
    assert.deepEqual(bounds, [1, 2, 3, 4, 5].map((i) => (2 * i) / 10));
  });
});

describe("stepOf", () => {
  test("every positive quantity up to the largest lands in the step that covers it", () => {
    for (const max of MAXIMA.slice(0, 120)) {
      const steps = shadeSteps(max);
      const probes = [...quantities(40, Math.round(max * 1000) % 9973 + 1).map((q) => (q / 1e8) * max), max, max / 3];
      for (const quantity of probes.filter((q) => q > 0 && q <= max)) {
        const step = stepOf(quantity, steps);
        assert.ok(steps.includes(step), `${quantity} of ${max} fell in no step`);
        assert.ok(step.from < quantity * (1 + 1e-9) && quantity <= step.to * (1 + 1e-9),
          `${quantity} of ${max} in (${step.from}, ${step.to}]`);
      }
    }
  });

  test("the largest quantity lands in the top step", () => {
    for (const max of MAXIMA) {
      const steps = shadeSteps(max);
      assert.equal(stepOf(max, steps), steps.at(-1), `${max}`);
    }
  });

  test("a quantity on a step's upper bound belongs to that step, one just past it to the next", () => {
    for (const max of [1, 10, 1000, 12345, 0.37]) {
      const steps = shadeSteps(max);
      steps.slice(0, -1).forEach((step, i) => {
        assert.equal(stepOf(step.to, steps), step, `${step.to} of ${max}`);
        assert.equal(stepOf(step.to * 1.001, steps), steps[i + 1], `just past ${step.to} of ${max}`);
      });
    }
  });

  test("a tiny quantity lands in the first step", () => {
    for (const max of [1, 1000, 1e6]) {
      const steps = shadeSteps(max);
      assert.equal(stepOf(max * 1e-12, steps), steps[0]);
    }
  });
});
