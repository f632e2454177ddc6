// What the browser checks share: a tally of checks, axe-core with the WCAG
// 2.0/2.1/2.2 A and AA tags, and the reflow check.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

export const failures = [];
let count = 0;

export function check(ok, what) {
  count++;
  if (!ok) failures.push(what);
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
}

// Prints the tally; exits 1 if any check failed.
export function finish(kind) {
  console.log(`${count - failures.length} of ${count} ${kind} checks passed`);
  if (failures.length) {
    console.log("Failures:\n- " + failures.join("\n- "));
    process.exit(1);
  }
}

// axe on a page or a frame.
export async function axe(target, state) {
  await target.evaluate(AXE);
  const r = await target.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    TAGS,
  );
  const v = r.violations.map((x) => `${x.id} (${x.impact}): ${x.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  check(v.length === 0, `axe: no violations on ${state}${v.length ? "\n     " + v.join("\n     ") : ""}`);
}

// Nothing sticks out sideways and no clipped text, at the current size.
export async function noOverflow(target, what) {
  const r = await target.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const bad = [];
    if (document.documentElement.scrollWidth > w + 1) bad.push(`page is ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll("body *")) {
      if (el.closest(".visually-hidden, .skip-link, [hidden]")) continue;
      const b = el.getBoundingClientRect();
      if (b.width === 0 && b.height === 0) continue;
      if (b.right > w + 1) bad.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(b.right)}px`);
      const cs = getComputedStyle(el);
      if ((cs.overflowX === "hidden" || cs.overflowX === "clip") && el.scrollWidth > el.clientWidth + 1) {
        bad.push(`${el.tagName.toLowerCase()}.${el.className} cuts off text`);
      }
    }
    return bad.slice(0, 8);
  });
  check(r.length === 0, `reflow: nothing cut off or scrolling sideways ${what}${r.length ? ": " + r.join("; ") : ""}`);
}
