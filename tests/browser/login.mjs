#!/usr/bin/env node
// Logs in to the gateway's dashboard in headless Chromium (Debian's, through playwright-core),
// as a person would: GET / lands on /login, a wrong password shows the gateway's message, the right
// one opens the dashboard, which must show --expect. Then checks that the page keeps no secret a
// script could read: the session cookie is HttpOnly, web storage is empty, the password is gone
// from the DOM. Prints one JSON line; exit 0 when every check holds, 1 when one fails, 2 on usage.
//
//   STRATO_TEST_PASSWORD=... node tests/browser/login.mjs --url https://HOST[:PORT] --user admin \
//     --password-env STRATO_TEST_PASSWORD --expect /web [--timeout-ms 60000] [--screenshot FILE]
//
// The browser is $CHROMIUM, else /usr/bin/chromium. The cluster CA is private: TLS errors are
// ignored (the gateway's certificate is tested elsewhere).
import { parseArgs } from "node:util";
import { launch } from "./chromium.mjs";

const COOKIE = "dcos-acs-auth-cookie";

function usage(message) {
  process.stderr.write(
    `login.mjs: ${message}\nusage: node login.mjs --url https://HOST[:PORT] --user U ` +
      "--password-env VAR --expect TEXT [--timeout-ms N] [--screenshot FILE]\n",
  );
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: "string" },
      user: { type: "string" },
      "password-env": { type: "string" },
      expect: { type: "string" },
      "timeout-ms": { type: "string", default: "30000" },
      screenshot: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  usage(e.message);
}
for (const name of ["url", "user", "password-env", "expect"]) {
  if (!opts[name]) usage(`--${name} is required`);
}
let origin;
try {
  const url = new URL(opts.url);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http(s)");
  origin = url.origin;
} catch {
  usage(`--url ${opts.url}: want https://HOST[:PORT]`);
}
const timeoutMs = Number(opts["timeout-ms"]);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  usage(`--timeout-ms ${opts["timeout-ms"]}: want a positive integer`);
}
const password = process.env[opts["password-env"]];
if (!password) usage(`$${opts["password-env"]} is empty or unset`);

// The checks end by the deadline less a reserve for the screenshot and closing the browser, so the
// whole run (from node's start to its exit) fits in --timeout-ms.
const started = performance.timeOrigin;
const deadline = started + timeoutMs - Math.min(3000, Math.floor(timeoutMs / 5));
const left = () => Math.max(1, Math.floor(deadline - Date.now()));
const path = (page) => new URL(page.url()).pathname;
// Playwright's call logs carry terminal colours even into a pipe.
// eslint-disable-next-line no-control-regex
const plain = (text) => String(text).replace(/\x1b\[[0-9;]*m/g, "");
const log = (line) => process.stderr.write(`login.mjs: ${plain(line)}\n`);

const result = {
  landed_on_login: false,
  wrong_password_error: "",
  logged_in: false,
  found_expect: false,
  cookie_visible_to_script: true,
  storage_empty: false,
  password_in_dom: true,
  final_url: "",
};
let printed = false;
function finish(ok) {
  if (printed) return;
  printed = true;
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exitCode = ok ? 0 : 1;
}
// Whatever hangs (a browser that does not start or close), answer at --timeout-ms; playwright
// kills the browser it launched when node exits.
setTimeout(() => {
  log(`still running after ${timeoutMs} ms; giving up`);
  finish(false);
  process.exit(1);
}, Math.max(1, started + timeoutMs - Date.now())).unref();

// True when the password (so also the wrong one, password + "x") is in the serialized DOM or in a
// field's value (which the markup does not show).
const passwordInDom = (page) =>
  page
    .evaluate((secret) => {
      const texts = [document.documentElement.outerHTML];
      for (const el of document.querySelectorAll("input, textarea")) texts.push(el.value);
      return texts.some((t) => t.includes(secret));
    }, password)
    .catch((e) => {
      log(`could not read the DOM of ${page.url()}: ${e.message.split("\n")[0]}`);
      return true;
    });

let browser;
let page;
let passwordSeen = false;
try {
  browser = await launch(left());
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
  page.on("pageerror", (e) => log(`page error: ${e.message}`));

  await page.goto(origin + "/", { waitUntil: "domcontentloaded", timeout: left() });
  result.landed_on_login = path(page) === "/login";
  if (!result.landed_on_login) {
    log(`GET / landed on ${page.url()}, not /login`);
    await page.goto(origin + "/login", { waitUntil: "domcontentloaded", timeout: left() });
  }

  // A wrong password: the gateway's message in #error, and the page stays on /login.
  await page.fill("#uid", opts.user, { timeout: left() });
  await page.fill("#password", password + "x", { timeout: left() });
  await page.click("#submit", { timeout: left() });
  try {
    const error = await page.waitForFunction(
      () => document.querySelector("#error")?.textContent.trim() || false,
      null,
      { timeout: left() },
    );
    const said = await error.jsonValue();
    if (path(page) === "/login") result.wrong_password_error = said;
    else log(`the wrong password left /login for ${page.url()}`);
  } catch (e) {
    log(`no message in #error after a wrong password (${page.url()}): ${e.message.split("\n")[0]}`);
  }
  passwordSeen ||= await passwordInDom(page);
  if (path(page) !== "/login") {
    await page.goto(origin + "/login", { waitUntil: "domcontentloaded", timeout: left() });
  }

  // The right one: the page goes to /, and the gateway serves the dashboard there.
  await page.fill("#uid", opts.user, { timeout: left() });
  await page.fill("#password", password, { timeout: left() });
  await page.click("#submit", { timeout: left() });
  try {
    await page.waitForURL((url) => url.pathname === "/", {
      waitUntil: "domcontentloaded",
      timeout: left(),
    });
  } catch (e) {
    const error = await page.textContent("#error", { timeout: 1000 }).catch(() => null);
    log(`still on ${page.url()} after the right password (#error: ${JSON.stringify(error)})`);
    log(e.message.split("\n")[0]);
  }
  const cookie = (await context.cookies(origin)).find((c) => c.name === COOKIE);
  if (!cookie) log(`no ${COOKIE} cookie after logging in`);
  result.logged_in = path(page) === "/" && Boolean(cookie);

  if (result.logged_in) {
    try {
      await page.waitForFunction((text) => document.body?.innerText.includes(text), opts.expect, {
        timeout: left(),
        polling: 250,
      });
      result.found_expect = true;
    } catch (e) {
      log(`${JSON.stringify(opts.expect)} not on ${page.url()}: ${e.message.split("\n")[0]}`);
    }
  }

  const seen = await page.evaluate(() => ({
    cookie: document.cookie,
    storage: localStorage.length + sessionStorage.length,
  }));
  result.cookie_visible_to_script =
    seen.cookie.includes(COOKIE) || Boolean(cookie?.value && seen.cookie.includes(cookie.value));
  result.storage_empty = seen.storage === 0;
  passwordSeen ||= await passwordInDom(page);
  result.password_in_dom = passwordSeen;
} catch (e) {
  log(`failed: ${e.stack || e}`);
} finally {
  if (page) {
    result.final_url = page.url();
    if (opts.screenshot) {
      const timeout = started + timeoutMs - Date.now() - 1000;
      if (timeout < 200) log("no time left for the screenshot");
      else {
        await page
          .screenshot({ path: opts.screenshot, fullPage: true, timeout })
          .catch((e) => log(`screenshot: ${e.message.split("\n")[0]}`));
      }
    }
  }
  await browser?.close().catch(() => {});
}
finish(
  result.landed_on_login &&
    result.wrong_password_error !== "" &&
    result.logged_in &&
    result.found_expect &&
    !result.cookie_visible_to_script &&
    result.storage_empty &&
    !result.password_in_dom,
);
