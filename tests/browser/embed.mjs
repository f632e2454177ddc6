// The chat on a council's own website, in a real headless Chromium: a test
// council page on another origin adds the embed script; its launcher button
// opens the chat in a frame. Checked: axe (WCAG 2.0/2.1/2.2 A and AA tags)
// on the council's page and inside the chat, keyboard-only use, focus
// moving into the chat and back out (Escape or the close button), one
// announcement per answer, reflow at 320 CSS px, screenshots at phone and
// desktop widths, and a site the council has not allowed cannot show it.
//
// Usage: node embed.mjs SIGNPOST_URL COUNCIL SCREENSHOT_DIR ALLOWED_PORT OTHER_PORT
// The council page is served here on 127.0.0.1:ALLOWED_PORT, which the
// council must allow in embed.allowed_sites, and again on OTHER_PORT, which
// it must not. (Both on loopback, as Signpost is: Chromium keeps pages on
// the internet from loading anything from a private address.)

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { axe, check, finish, noOverflow } from "./lib.mjs";

const [signpost, council, shots, allowedPort, otherPort] = process.argv.slice(2);
if (!signpost || !council || !shots || !allowedPort || !otherPort) {
  console.error("usage: node embed.mjs SIGNPOST_URL COUNCIL SCREENSHOT_DIR ALLOWED_PORT OTHER_PORT");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const ALLOWED = `http://127.0.0.1:${allowedPort}`;
const OTHER = `http://127.0.0.1:${otherPort}`;


// A council's own page, written the way council sites are, with the one
// line the embed snippet page gives.
function councilPage(origin) {
  return `<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Adult social care – Test Borough Council</title></head>
<body>
<header><p><a href="${origin}/">Test Borough Council home</a></p></header>
<main>
<h1>Adult social care</h1>
<p>We can help you stay independent at home, support you if you look after someone, and tell you about paying for care.</p>
<h2>Get in touch</h2>
<p><a href="${origin}/contact-us">Contact the adult social care team</a></p>
</main>
<script src="${signpost}/c/${council}/embed.js" defer></script>
</body></html>`;
}

// The council's website: every address gives its page.
const sites = [];
for (const [origin, port] of [[ALLOWED, allowedPort], [OTHER, otherPort]]) {
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(councilPage(origin));
  });
  await new Promise((ok) => server.listen(Number(port), "127.0.0.1", ok));
  sites.push(server);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function councilSite(origin, watchErrors) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  if (watchErrors) {
    page.on("pageerror", (e) => check(false, `no script errors (${e.message})`));
    page.on("console", (m) => {
      if (m.type() === "error") check(false, `no console errors (${m.text()})`);
    });
  }
  await page.goto(`${origin}/`);
  await page.waitForSelector("button[aria-haspopup=dialog]");
  return { ctx, page };
}


async function chatFrame(page) {
  for (let i = 0; i < 100; i++) {
    const f = page.frames().find((f) => f.url().includes(`/c/${council}/`));
    if (f) {
      await f.waitForSelector("#q");
      return f;
    }
    await page.waitForTimeout(100);
  }
  throw new Error("the chat frame never loaded");
}


try {
  // 1. The council's page with the launcher, by keyboard alone.
  {
    const { ctx, page } = await councilSite(ALLOWED, true);
    await axe(page, "the council's page with the launcher");
    let reached = false;
    for (let i = 0; i < 10 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement.getAttribute("aria-haspopup") === "dialog");
    }
    check(reached, "Tab reaches the chat's launcher button");
    check(await page.evaluate(() => document.activeElement.getAttribute("aria-expanded")) === "false", "the launcher says the chat is closed");
    await page.keyboard.press("Enter");
    check(await page.locator("dialog[open]").count() === 1, "Enter opens the chat");
    const frame = await chatFrame(page);
    await frame.waitForFunction(() => document.activeElement && document.activeElement.id === "q", null, { timeout: 10000 });
    check(await page.evaluate(() => document.activeElement.tagName) === "IFRAME", "focus moves into the chat's frame");
    check(await frame.evaluate(() => document.activeElement.id) === "q", "and onto the question box");
    check(await page.locator("dialog iframe[title]").count() === 1, "the frame has a title");

    // Ask by keyboard; one announcement for the answer.
    await frame.evaluate(() => {
      window.__said = [];
      const s = document.getElementById("chat-status");
      new MutationObserver(() => {
        const t = s.textContent.trim();
        if (t) window.__said.push(t);
      }).observe(s, { childList: true, characterData: true, subtree: true });
    });
    await page.keyboard.type("how much does a blue badge cost");
    await page.keyboard.press("Enter");
    await frame.waitForFunction(
      () => document.querySelectorAll("#turns .msg-bot").length === 1 && !document.querySelector("#turns .msg-bot[aria-busy=true]"),
      null, { timeout: 60000 },
    );
    const answer = await frame.locator("#latest").textContent();
    check(answer.includes("£10"), "the answer is shown in the chat");
    const said = await frame.evaluate(() => window.__said);
    check(said.length === 1 && said[0].startsWith("Answer:"), `one announcement for the answer (${said.length})`);
    await axe(frame, "the chat in its frame, with an answer");
    await axe(page, "the council's page with the chat open");
    for (const [label, size] of [["phone", { width: 375, height: 812 }], ["desktop", { width: 1280, height: 900 }]]) {
      await page.setViewportSize(size);
      await page.screenshot({ path: `${shots}/embedded-${label}.png` });
    }

    // Reflow at 320 CSS px: the dialog fits, and nothing in the chat scrolls sideways.
    await page.setViewportSize({ width: 320, height: 640 });
    const box = await page.locator("dialog[open]").boundingBox();
    check(box && box.x >= 0 && box.x + box.width <= 321, `the chat fits a 320 px screen (${box && Math.round(box.x + box.width)}px)`);
    await noOverflow(frame, "inside the chat at 320 CSS px");
    await noOverflow(page, "on the council's page at 320 CSS px");
    await page.setViewportSize({ width: 1280, height: 900 });

    // Escape inside the chat closes it, and focus goes back to the launcher.
    await frame.focus("#q");
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.querySelector("dialog[open]"), null, { timeout: 5000 });
    check(await page.evaluate(() => document.activeElement.getAttribute("aria-haspopup")) === "dialog", "Escape closes the chat and focus returns to the launcher");
    check(await page.evaluate(() => document.activeElement.getAttribute("aria-expanded")) === "false", "the launcher says the chat is closed again");

    // The close button does the same, and the conversation is still there.
    await page.keyboard.press("Enter");
    await frame.waitForFunction(() => document.activeElement && document.activeElement.id === "q", null, { timeout: 10000 });
    check(await frame.locator("#turns .msg-bot").count() === 1, "opening again keeps the conversation");
    await page.click("dialog button");
    check(await page.evaluate(() => document.activeElement.getAttribute("aria-haspopup")) === "dialog", "the close button returns focus to the launcher");
    await ctx.close();
  }

  // 2. A site the council has not allowed cannot show the chat.
  {
    const { ctx, page } = await councilSite(OTHER, false);
    await page.click("button[aria-haspopup=dialog]");
    await page.waitForTimeout(2000);
    let shown = 0;
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      shown += await f.locator("#q").count().catch(() => 0);
    }
    const src = await page.locator("dialog iframe").getAttribute("src");
    check((src || "").includes(`/c/${council}/`), "the other site's page did ask for the chat");
    check(shown === 0, "a site not in embed.allowed_sites cannot show the chat");
    await ctx.close();
  }
} catch (e) {
  check(false, `embed checks ran to the end (${e.stack || e})`);
} finally {
  await browser.close();
  for (const s of sites) s.close();
}

finish("embed");
