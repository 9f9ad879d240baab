#!/usr/bin/env node
// Drives the dashboard in headless Chromium (Debian's, through playwright-core) as an operator
// would, against a running master: a definition the API refuses shows the API's own message and
// deploys nothing; the JSON editor deploys an app; the row's Scale sets 3 instances and 3 tasks
// show; a task's output view shows a line the task printed; Restart replaces every task; Suspend
// scales to 0; Destroy asks first, then removes the app. A job (made through the Metronome API)
// is run with Run now, its last run shows SUCCESS with the line it printed as its output, and
// Delete asks first, then removes it. Prints one JSON line of what it saw; exit 0 when every step held, 1 when one failed, 2 on
// usage.
//
//   node tests/browser/dashboard.mjs --url http://HOST:PORT/ --app-id /dash/hello \
//     --line dash-line [--timeout-ms 120000] [--screenshot FILE] [--user U --password-env VAR]
//
// With --user, it first logs in on the gateway's /login page (the password from $VAR), so every
// step goes through the gateway with its session cookie; the cluster CA is private, so TLS errors
// are ignored (the gateway's certificate is tested elsewhere).
// The app it deploys prints "<line>-<n>" every half second. The browser is $CHROMIUM, else
// /usr/bin/chromium.
import { parseArgs } from "node:util";
import { launch } from "./chromium.mjs";

function usage(message) {
  process.stderr.write(
    `dashboard.mjs: ${message}\nusage: node dashboard.mjs --url http://HOST:PORT/ --app-id ID ` +
      "--line TEXT [--timeout-ms N] [--screenshot FILE] [--user U --password-env VAR]\n",
  );
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: "string" },
      "app-id": { type: "string" },
      line: { type: "string" },
      "timeout-ms": { type: "string", default: "120000" },
      screenshot: { type: "string" },
      user: { type: "string" },
      "password-env": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  usage(e.message);
}
for (const name of ["url", "app-id", "line"]) {
  if (!opts[name]) usage(`--${name} is required`);
}
if (Boolean(opts.user) !== Boolean(opts["password-env"])) usage("--user and --password-env go together");
const password = opts.user ? process.env[opts["password-env"]] : "";
if (opts.user && !password) usage(`$${opts["password-env"]} is empty or unset`);
const timeoutMs = Number(opts["timeout-ms"]);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) usage(`--timeout-ms ${opts["timeout-ms"]}: want a positive integer`);
const appId = opts["app-id"];
if (!/^\/[a-z0-9/-]+$/.test(appId)) usage(`--app-id ${appId}: want a Marathon id such as /dash/hello`);

const started = performance.timeOrigin;
const deadline = started + timeoutMs - Math.min(5000, Math.floor(timeoutMs / 5));
const left = () => Math.max(1, Math.floor(deadline - Date.now()));
// eslint-disable-next-line no-control-regex
const plain = (text) => String(text).replace(/\x1b\[[0-9;]*m/g, "");
const log = (line) => process.stderr.write(`dashboard.mjs: ${plain(line)}\n`);

const result = {
  logged_in: null,
  refused_message: "",
  api_message: "",
  refused_details: [],
  deployed_nothing: false,
  broken_message: "",
  broken_api_message: "",
  broken_deployed_nothing: false,
  deployed: false,
  scaled_tasks: 0,
  log_line: "",
  restarted: false,
  suspended: false,
  confirm_asked: false,
  destroyed: false,
  job_succeeded: false,
  job_output: "",
  job_deleted: false,
  page_errors: [],
};
let printed = false;
function finish(ok) {
  if (printed) return;
  printed = true;
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exitCode = ok ? 0 : 1;
}
setTimeout(() => {
  log(`still running after ${timeoutMs} ms; giving up`);
  finish(false);
  process.exit(1);
}, Math.max(1, started + timeoutMs - Date.now())).unref();

const origin = new URL(opts.url).origin;
const appRow = (page) => page.locator(`#apps tbody tr[data-app="${appId}"]`);
const api = async (page, path) => {
  const response = await page.request.get(origin + path, { failOnStatusCode: false });
  return { status: response.status(), body: await response.json().catch(() => null) };
};

// A step that fails is logged; the run goes on to the next where it can, so the JSON shows all.
async function step(name, body) {
  try {
    await body();
    return true;
  } catch (e) {
    log(`${name}: ${e.message.split("\n")[0]}`);
    return false;
  }
}

let browser;
let ok = true;
try {
  browser = await launch(left());
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => result.page_errors.push(e.message));
  if (opts.user) {
    result.logged_in = false;
    await page.goto(origin + "/login", { waitUntil: "domcontentloaded", timeout: left() });
    await page.fill("#uid", opts.user, { timeout: left() });
    await page.fill("#password", password, { timeout: left() });
    await page.click("#submit", { timeout: left() });
    await page.waitForURL((url) => url.pathname === "/", { waitUntil: "domcontentloaded", timeout: left() });
    result.logged_in = true;
  }
  await page.goto(opts.url, { waitUntil: "domcontentloaded", timeout: left() });
  await page.waitForFunction(() => /updated/.test(document.querySelector("#status")?.textContent || ""), null, {
    timeout: left(),
  });

  // A definition without cmd, args or container: the API's message, shown beside the editor.
  const bad = JSON.stringify({ id: appId, cpus: 0.1, mem: 16, instances: 1 });
  ok &&= await step("refused definition", async () => {
    await page.fill("#app-json", bad, { timeout: left() });
    await page.click("#deploy", { timeout: left() });
    await page.waitForFunction(() => document.querySelector("#deploy-message")?.classList.contains("bad"), null, {
      timeout: left(),
    });
    result.refused_message = (await page.textContent("#deploy-message")).trim();
    result.refused_details = await page.$$eval("#deploy-errors li", (items) => items.map((i) => i.textContent.trim()));
    // The same body straight to the API: it is refused again (nothing is deployed by asking).
    const again = await page.request.post(origin + "/v2/apps", {
      data: bad,
      headers: { "Content-Type": "application/json" },
      failOnStatusCode: false,
    });
    result.api_message = ((await again.json().catch(() => ({}))) || {}).message || `status ${again.status()}`;
    const after = await api(page, "/v2/apps" + appId);
    result.deployed_nothing = after.status === 404;
  });

  // Text that is not JSON at all: the API's own message again, and nothing deployed.
  const broken = `{"id": "${appId}", "cmd": `;
  ok &&= await step("broken JSON", async () => {
    await page.fill("#app-json", broken, { timeout: left() });
    await page.click("#deploy", { timeout: left() });
    await page.waitForFunction(
      (before) => {
        const m = document.querySelector("#deploy-message");
        return m?.classList.contains("bad") && m.textContent.trim() !== before;
      },
      result.refused_message,
      { timeout: left() },
    );
    result.broken_message = (await page.textContent("#deploy-message")).trim();
    const again = await page.request.post(origin + "/v2/apps", {
      data: broken,
      headers: { "Content-Type": "application/json" },
      failOnStatusCode: false,
    });
    result.broken_api_message = ((await again.json().catch(() => ({}))) || {}).message || `status ${again.status()}`;
    result.broken_deployed_nothing = (await api(page, "/v2/apps" + appId)).status === 404;
  });

  // The editor deploys a real app.
  const good = JSON.stringify(
    {
      id: appId,
      cmd: `i=0; while true; do i=$((i+1)); echo "${opts.line}-$i"; sleep 0.5; done`,
      cpus: 0.05,
      mem: 16,
      instances: 1,
    },
    null,
    2,
  );
  ok &&= await step("deploy", async () => {
    await page.fill("#app-json", good, { timeout: left() });
    await page.click("#deploy", { timeout: left() });
    await appRow(page).locator(".instances", { hasText: "1 / 1" }).waitFor({ timeout: left() });
    result.deployed = true;
  });

  // Scale from the row: 3 instances, 3 task rows of the app.
  ok &&= await step("scale", async () => {
    await appRow(page).locator("input.scale-input").fill("3", { timeout: left() });
    await appRow(page).locator("button.scale").click({ timeout: left() });
    await appRow(page).locator(".instances", { hasText: "3 / 3" }).waitFor({ timeout: left() });
    const tasks = page.locator(`#tasks tbody tr[data-app="${appId}"]`);
    await page.waitForFunction(
      (id) => document.querySelectorAll(`#tasks tbody tr[data-app="${id}"]`).length === 3,
      appId,
      { timeout: left() },
    );
    result.scaled_tasks = await tasks.count();
  });

  // A task's stdout in the output view.
  ok &&= await step("output", async () => {
    await page.locator(`#tasks tbody tr[data-app="${appId}"] button.logs`).first().click({ timeout: left() });
    const text = await page.waitForFunction(
      (line) => {
        const t = document.querySelector("#log-text")?.textContent || "";
        const m = t.match(new RegExp(line + "-[0-9]+"));
        return m ? m[0] : false;
      },
      opts.line,
      { timeout: left(), polling: 250 },
    );
    result.log_line = await text.jsonValue();
  });

  // Restart replaces every task (new ids); Suspend scales to 0.
  ok &&= await step("restart", async () => {
    const ids = () =>
      page.$$eval(`#tasks tbody tr[data-app="${appId}"]`, (rows) => rows.map((r) => r.dataset.task));
    const before = await ids();
    await appRow(page).locator("button.restart").click({ timeout: left() });
    await page.waitForFunction(
      ([id, old]) => {
        const now = [...document.querySelectorAll(`#tasks tbody tr[data-app="${id}"]`)].map((r) => r.dataset.task);
        return now.length === old.length && now.every((t) => !old.includes(t));
      },
      [appId, before],
      { timeout: left(), polling: 250 },
    );
    result.restarted = true;
  });

  if (opts.screenshot) {
    await page.screenshot({ path: opts.screenshot, fullPage: true }).catch((e) => log(`screenshot: ${e.message}`));
  }

  ok &&= await step("suspend", async () => {
    await appRow(page).locator("button.suspend").click({ timeout: left() });
    await appRow(page).locator(".instances", { hasText: "0 / 0" }).waitFor({ timeout: left() });
    await page.waitForFunction(
      (id) => document.querySelectorAll(`#tasks tbody tr[data-app="${id}"]`).length === 0,
      appId,
      { timeout: left() },
    );
    result.suspended = true;
  });

  // Destroy asks first; confirmed, the app is gone from the page and from the API.
  ok &&= await step("destroy", async () => {
    await appRow(page).locator("button.destroy").click({ timeout: left() });
    await appRow(page).locator("button.confirm-destroy").waitFor({ timeout: left() });
    result.confirm_asked = (await appRow(page).locator(".confirm-text").textContent()).includes(appId);
    await appRow(page).locator("button.confirm-destroy").click({ timeout: left() });
    await appRow(page).waitFor({ state: "detached", timeout: left() });
    for (;;) {
      if ((await api(page, "/v2/apps" + appId)).status === 404) break;
      if (left() <= 1) throw new Error(`${appId} still answers after the destroy`);
      await page.waitForTimeout(250);
    }
    result.destroyed = true;
  });

  // A job: Run now, its success and output in the row, then Delete (asks first).
  const jobId = appId.slice(1).replaceAll("/", ".");
  const jobRow = () => page.locator(`#jobs tbody tr[data-job="${jobId}"]`);
  ok &&= await step("job", async () => {
    const created = await page.request.post(origin + "/v1/jobs", {
      data: { id: jobId, run: { cmd: `echo ${opts.line}-job`, cpus: 0.05, mem: 32, disk: 0 } },
      failOnStatusCode: false,
    });
    if (created.status() !== 201) throw new Error(`POST /v1/jobs answered ${created.status()}: ${await created.text()}`);
    await jobRow().locator("button.run-job").click({ timeout: left() });
    await jobRow().locator(".last-run", { hasText: "SUCCESS" }).waitFor({ timeout: left() });
    result.job_succeeded = (await jobRow().locator(".job-counts").textContent()).trim() === "1 / 0";
    await jobRow().locator(".last-run button.logs").click({ timeout: left() });
    const text = await page.waitForFunction(
      (line) => {
        const t = document.querySelector("#log-text")?.textContent || "";
        return t.includes(line + "-job") ? line + "-job" : false;
      },
      opts.line,
      { timeout: left(), polling: 250 },
    );
    result.job_output = await text.jsonValue();
    await jobRow().locator("button.delete-job").click({ timeout: left() });
    await jobRow().locator("button.confirm-delete-job").click({ timeout: left() });
    await jobRow().waitFor({ state: "detached", timeout: left() });
    result.job_deleted = (await api(page, "/v1/jobs/" + jobId)).status === 404;
  });
} catch (e) {
  ok = false;
  log(e.message.split("\n")[0]);
} finally {
  await browser?.close().catch(() => {});
}
finish(ok && result.page_errors.length === 0);
