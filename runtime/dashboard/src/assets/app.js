// Strato dashboard: polls the master this page came from, redraws its tables and charts, and acts
// through the same Marathon API every client uses (deploy, scale, restart, suspend, destroy), and
// the Metronome API for jobs (run now, stop a run, delete).
// Same-origin requests only (behind the gateway its login cookie goes along); every value goes in
// through textContent (no HTML injection).
"use strict";

const POLL_MS = 2000;
const LOG_POLL_MS = 1000;
// What the log view shows at most, and how much of a file it starts with (the file's tail).
const LOG_KEEP_CHARS = 200000;
const LOG_START_BYTES = 16384;
const LOG_READ_BYTES = 65536;

// What the page remembers between polls: the last answers, what the user is doing in a table
// (a draft instance count, a destroy awaiting confirmation) and the log being followed.
const ui = {
  state: null,
  apps: [],
  deployments: [],
  jobs: [],
  history: null,
  drafts: {},
  confirming: null,
  log: null,
};

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function button(text, cls, onClick, title) {
  const b = el("button", text, cls);
  b.type = "button";
  if (title) b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

function link(text, href, cls) {
  const a = el("a", text, cls);
  a.href = href;
  return a;
}

function group(...children) {
  const span = el("span", null, "group");
  for (const c of children) if (c) span.appendChild(c);
  return span;
}

function row(cells, attrs) {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs || {})) tr.dataset[k] = v;
  for (const cell of cells) {
    if (cell instanceof Node) {
      const td = document.createElement("td");
      td.appendChild(cell);
      tr.appendChild(td);
    } else {
      tr.appendChild(el("td", cell));
    }
  }
  return tr;
}

// A table is not redrawn while the user is typing or clicking in it; the next poll catches up.
function busy(tableId) {
  const table = document.getElementById(tableId);
  return table.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
}

function fill(tableId, rows, emptyText) {
  if (busy(tableId)) return;
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = el("td", emptyText, "empty");
    td.colSpan = document.querySelectorAll("#" + tableId + " thead th").length;
    tr.appendChild(td);
    body.appendChild(tr);
  } else {
    for (const r of rows) body.appendChild(r);
  }
  const count = document.getElementById(tableId + "-count");
  if (count) count.textContent = "(" + rows.length + ")";
}

function num(v) {
  if (typeof v !== "number" || !isFinite(v)) return "0";
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
}

function usedOfTotal(used, total, key) {
  return num((used || {})[key]) + " / " + num((total || {})[key]);
}

// Mesos writes port ranges as "[31000-32000]"; Strato's own shape is [{begin,end}].
function portRanges(ports) {
  if (!ports) return "";
  if (typeof ports === "string") return ports;
  if (Array.isArray(ports)) return ports.map((r) => (r.begin === r.end ? r.begin : r.begin + "-" + r.end)).join(", ");
  return "";
}

function stateBadge(state) {
  const s = String(state || "");
  const cls = /(RUNNING|SUCCESS)/.test(s) ? "ok" : /(FAILED|LOST|ERROR|KILLED|GONE|UNREACHABLE)/.test(s) ? "bad" : "wait";
  return el("span", s.replace(/^TASK_/, "") || "?", "badge " + cls);
}

function ago(seconds) {
  if (typeof seconds !== "number" || !isFinite(seconds) || seconds <= 0) return "";
  const delta = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  return delta < 120 ? delta + " s ago" : Math.round(delta / 60) + " min ago";
}

function agentRole(a) {
  return a.role || (a.resources && a.resources.role) || (a.attributes && a.attributes.public ? "slave_public" : "*");
}

function agentRows(state) {
  const agents = state.slaves || state.agents || [];
  return agents.map((a) =>
    row([
      link(a.hostname || a.id || "?", "#/node/" + encodeURIComponent(a.id || ""), "host"),
      a.id || "",
      agentRole(a),
      usedOfTotal(a.used_resources, a.resources, "cpus"),
      usedOfTotal(a.used_resources, a.resources, "mem"),
      usedOfTotal(a.used_resources, a.resources, "disk"),
      portRanges((a.resources || {}).ports),
      el("span", a.active === false ? "inactive" : "active", "badge " + (a.active === false ? "bad" : "ok")),
    ])
  );
}

function appHealth(app) {
  const checks = (app.healthChecks || []).length;
  if (checks === 0) return el("span", "no checks", "badge none");
  const healthy = app.tasksHealthy || 0;
  const unhealthy = app.tasksUnhealthy || 0;
  const text = healthy + " healthy, " + unhealthy + " unhealthy";
  return el("span", text, "badge " + (unhealthy > 0 ? "bad" : healthy >= (app.instances || 0) ? "ok" : "wait"));
}

function lastFailure(app) {
  const f = app.lastTaskFailure;
  if (!f) return "";
  const box = el("div", null, "failure");
  box.appendChild(stateBadge(f.state));
  box.appendChild(el("span", " " + (f.message || "(no message)"), "failure-message"));
  box.appendChild(el("div", (f.timestamp || "") + (f.host ? " on " + f.host : ""), "muted"));
  if (f.taskId) box.appendChild(button("output", "logs quiet", () => openLog(f.taskId, "stderr")));
  return box;
}

function appActions(app) {
  const id = app.id;
  if (ui.confirming === id) {
    return group(
      el("span", "Destroy " + id + " and its tasks? ", "confirm-text"),
      button("Destroy", "confirm-destroy danger", () => act("DELETE", appPath(id), null, "destroying " + id, () => (ui.confirming = null))),
      button("Cancel", "cancel-destroy quiet", () => {
        ui.confirming = null;
        redraw();
      })
    );
  }
  const input = el("input", null, "scale-input");
  input.type = "number";
  input.min = "0";
  input.step = "1";
  input.setAttribute("aria-label", "instances of " + id);
  input.value = id in ui.drafts ? ui.drafts[id] : String(app.instances || 0);
  input.addEventListener("input", () => (ui.drafts[id] = input.value));
  const scale = () => {
    const n = Number(input.value);
    if (!Number.isInteger(n) || n < 0) {
      notice("Instances must be a whole number of 0 or more, not " + JSON.stringify(input.value), true);
      return;
    }
    delete ui.drafts[id];
    input.blur();
    act("PUT", appPath(id), { instances: n }, "scaling " + id + " to " + n);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") scale();
  });
  return group(
    input,
    button("Scale", "scale", scale),
    button("Restart", "restart", () => act("POST", appPath(id) + "/restart", null, "restarting " + id)),
    (app.instances || 0) > 0 ? button("Suspend", "suspend", () => act("PUT", appPath(id), { instances: 0 }, "suspending " + id), "scale to 0") : null,
    button("Destroy", "destroy danger", () => {
      ui.confirming = id;
      redraw();
    })
  );
}

function appRows(apps) {
  return apps.map((app) =>
    row(
      [
        el("span", app.id, "app-id"),
        el("span", (app.tasksRunning || 0) + " / " + (app.instances || 0), "instances"),
        appHealth(app),
        num(app.cpus),
        num(app.mem),
        el("code", app.cmd || (app.args || []).join(" ") || (app.container && app.container.docker ? app.container.docker.image : "")),
        lastFailure(app),
        appActions(app),
      ],
      { app: app.id }
    )
  );
}

function taskHealth(task) {
  const results = task.healthCheckResults || [];
  if (results.length === 0) return "";
  return results.every((r) => r.alive) ? "healthy" : "unhealthy";
}

function allTasks(apps) {
  const tasks = [];
  for (const app of apps) for (const task of app.tasks || []) tasks.push(Object.assign({ appId: app.id }, task));
  return tasks;
}

function taskRows(tasks) {
  return tasks.map((task) =>
    row(
      [
        el("code", task.id),
        task.appId,
        link(task.host || "", "#/node/" + encodeURIComponent(task.slaveId || ""), "host"),
        (task.ports || []).join(", "),
        stateBadge(task.state),
        taskHealth(task),
        task.startedAt || "",
        button("output", "logs quiet", () => openLog(task.id, "stdout")),
      ],
      { task: task.id, app: task.appId }
    )
  );
}

function deploymentSteps(d) {
  const list = el("ol", null, "steps");
  (d.steps || []).forEach((step, i) => {
    const done = i + 1 < (d.currentStep || 0);
    const now = i + 1 === (d.currentStep || 0);
    const text = (step.actions || []).map((a) => a.action + " " + a.app).join(", ");
    list.appendChild(el("li", (done ? "✓ " : now ? "▶ " : "") + text, done ? "done" : now ? "current" : "pending"));
  });
  return list;
}

function deploymentRows(deployments) {
  return deployments.map((d) =>
    row([
      el("code", d.id),
      (d.affectedApps || []).join(", "),
      (d.currentStep || 0) + " / " + (d.totalSteps || 0),
      (d.steps || []).length > 0 ? deploymentSteps(d) : (d.currentActions || []).map((a) => a.action + " " + a.app).join(", "),
      d.version || "",
    ])
  );
}

// ---- jobs (/v1/jobs with activeRuns, schedules and history embedded) ----

function jobPath(id) {
  return "/v1/jobs/" + encodeURIComponent(id);
}

function jobSchedule(job) {
  const s = (job.schedules || [])[0];
  if (!s) return "";
  return group(
    el("code", s.cron),
    el("span", s.timezone, "muted"),
    el("div", s.enabled ? "next " + (s.nextRunAt || "?") + (s.concurrencyPolicy === "FORBID" ? ", never overlapping" : "") : "disabled", "muted")
  );
}

function jobRuns(job) {
  const runs = job.activeRuns || [];
  if (runs.length === 0) return "";
  const box = el("div");
  for (const run of runs) {
    const line = el("div", null, "job-run");
    line.dataset.run = run.id;
    line.appendChild(stateBadge(run.status));
    line.appendChild(el("code", " " + run.id + " "));
    const live = (run.tasks || []).filter((t) => !/(FINISHED|FAILED|KILLED|LOST|ERROR|GONE)/.test(t.status)).pop();
    if (live) line.appendChild(button("output", "logs quiet", () => openLog(live.id, "stdout")));
    line.appendChild(button("Stop", "stop-run", () => act("POST", jobPath(job.id) + "/runs/" + encodeURIComponent(run.id) + "/actions/stop", null, "stopping run " + run.id)));
    box.appendChild(line);
  }
  return box;
}

// The newest finished run, successful or failed, with its last task's output.
function jobLastRun(job) {
  const h = job.history || {};
  const newest = (list, status) => ((list || [])[0] ? Object.assign({ status }, list[0]) : null);
  const runs = [newest(h.successfulFinishedRuns, "SUCCESS"), newest(h.failedFinishedRuns, "FAILED")].filter(Boolean);
  runs.sort((a, b) => String(b.finishedAt).localeCompare(String(a.finishedAt)));
  const last = runs[0];
  if (!last) return "";
  const box = el("div", null, "last-run");
  box.appendChild(stateBadge(last.status));
  box.appendChild(el("span", " " + (last.finishedAt || ""), "muted"));
  const task = (last.tasks || [])[(last.tasks || []).length - 1];
  if (task) box.appendChild(button("output", "logs quiet", () => openLog(task, last.status === "SUCCESS" ? "stdout" : "stderr")));
  return box;
}

function jobActions(job) {
  const id = job.id;
  const key = "job:" + id;
  if (ui.confirming === key) {
    return group(
      el("span", "Delete job " + id + (job.activeRuns ? " and stop its runs" : "") + "? ", "confirm-text"),
      button("Delete", "confirm-delete-job danger", () => act("DELETE", jobPath(id) + "?stopCurrentJobRuns=true", null, "deleting job " + id, () => (ui.confirming = null))),
      button("Cancel", "cancel-delete-job quiet", () => {
        ui.confirming = null;
        redraw();
      })
    );
  }
  return group(
    button("Run now", "run-job", () => act("POST", jobPath(id) + "/runs", null, "starting a run of " + id)),
    button("Delete", "delete-job danger", () => {
      ui.confirming = key;
      redraw();
    })
  );
}

function jobRows(jobs) {
  return jobs.map((job) => {
    const h = job.history || {};
    const run = job.run || {};
    return row(
      [
        el("span", job.id, "job-id"),
        el("code", run.cmd || (run.args || []).join(" ") || (run.docker ? run.docker.image : "")),
        jobSchedule(job),
        jobRuns(job),
        jobLastRun(job),
        el("span", (h.successCount || 0) + " / " + (h.failureCount || 0), "job-counts"),
        jobActions(job),
      ],
      { job: job.id }
    );
  });
}

// ---- charts: small SVG line charts drawn from /strato/v1/metrics/history ----

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

// One chart: `used` as a filled line, `total` (when given) as a dashed line, over the points' times.
function chart(title, unit, points, used, total) {
  const W = 300;
  const H = 90;
  const box = el("figure", null, "chart");
  const last = points[points.length - 1];
  const now = last ? num(used(last)) + (total ? " / " + num(total(last)) : "") + " " + unit : "no data yet";
  const caption = el("figcaption");
  caption.appendChild(el("span", title, "chart-title"));
  caption.appendChild(el("span", now, "chart-value"));
  box.appendChild(caption);
  const graph = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img" });
  graph.appendChild(svg("title", {})).textContent = title + ": " + now;
  const max = Math.max(1e-9, ...points.map((p) => Math.max(used(p), total ? total(p) : 0))) * 1.1;
  const x = (i) => (points.length <= 1 ? W : (i / (points.length - 1)) * W);
  const y = (v) => H - (v / max) * (H - 4);
  const line = (f) => points.map((p, i) => x(i).toFixed(1) + "," + y(f(p)).toFixed(1)).join(" ");
  if (points.length > 0) {
    graph.appendChild(svg("polygon", { points: "0," + H + " " + line(used) + " " + W + "," + H, class: "area" }));
    graph.appendChild(svg("polyline", { points: line(used), class: "used" }));
    if (total) graph.appendChild(svg("polyline", { points: line(total), class: "total" }));
  }
  box.appendChild(graph);
  return box;
}

function drawCharts(target, points, pick) {
  const p = (key) => (point) => Number((pick(point) || {})[key]) || 0;
  const charts = [
    chart("CPUs allocated", "CPUs", points, p("cpusUsed"), p("cpusTotal")),
    chart("Memory allocated", "MiB", points, p("memUsed"), p("memTotal")),
    chart("Disk allocated", "MiB", points, p("diskUsed"), p("diskTotal")),
    chart("Tasks", "running", points, (point) => Number((pick(point) || {}).tasksRunning ?? (pick(point) || {}).tasks) || 0),
  ];
  document.getElementById(target).replaceChildren(...charts);
}

function clusterCharts() {
  const section = document.getElementById("charts-section");
  if (!ui.history) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const points = ui.history.points || [];
  document.getElementById("charts-note").textContent =
    "(" + points.length + " samples, every " + (ui.history.intervalSeconds || "?") + " s)";
  drawCharts("charts", points, (point) => point);
}

// ---- the node page (#/node/<id>) ----

function nodeView(id) {
  const agents = (ui.state && (ui.state.slaves || ui.state.agents)) || [];
  const a = agents.find((x) => x.id === id);
  document.getElementById("node-title").textContent = a ? (a.hostname || a.id) : id + " (not registered)";
  const health = document.getElementById("node-health");
  health.replaceChildren();
  const facts = document.getElementById("node-facts");
  facts.replaceChildren();
  if (a) {
    health.appendChild(el("span", a.active === false ? "unreachable" : "healthy", "badge " + (a.active === false ? "bad" : "ok")));
    const add = (k, v) => {
      facts.appendChild(el("dt", k));
      facts.appendChild(el("dd", v));
    };
    add("Id", a.id);
    add("Address", String(a.pid || "").replace(/^slave\(1\)@/, ""));
    add("Role", agentRole(a));
    add("Version", a.strato_version || a.version || "");
    add("CPUs used / total", usedOfTotal(a.used_resources, a.resources, "cpus"));
    add("Memory MiB used / total", usedOfTotal(a.used_resources, a.resources, "mem"));
    add("Disk MiB used / total", usedOfTotal(a.used_resources, a.resources, "disk"));
    add("Ports", portRanges((a.resources || {}).ports));
    add("Last heartbeat", ago(a.last_heartbeat));
    add("Registered", a.registered_time ? new Date(a.registered_time * 1000).toISOString() : "");
  }
  const points = (ui.history && ui.history.points) || [];
  drawCharts("node-charts", points, (point) => (point.agents || {})[id]);
  const tasks = allTasks(ui.apps).filter((t) => t.slaveId === id);
  fill(
    "node-tasks",
    tasks.map((task) =>
      row(
        [
          el("code", task.id),
          task.appId,
          (task.ports || []).join(", "),
          stateBadge(task.state),
          task.startedAt || "",
          button("output", "logs quiet", () => openLog(task.id, "stdout")),
        ],
        { task: task.id }
      )
    ),
    "no tasks on this node"
  );
}

// ---- task output: tails a sandbox file through the master (/strato/v1/tasks/<id>/files/read) ----

function openLog(taskId, file) {
  ui.log = { taskId, file, offset: null, text: "", timer: null };
  document.getElementById("log-section").hidden = false;
  document.getElementById("log-task").textContent = taskId;
  document.getElementById("log-text").textContent = "";
  for (const b of document.querySelectorAll(".log-file")) b.classList.toggle("selected", b.dataset.file === file);
  readLog();
  document.getElementById("log-section").scrollIntoView({ block: "nearest" });
}

function closeLog() {
  if (ui.log && ui.log.timer) clearTimeout(ui.log.timer);
  ui.log = null;
  document.getElementById("log-section").hidden = true;
}

async function readLog() {
  const log = ui.log;
  if (!log) return;
  const status = document.getElementById("log-status");
  const base = "/strato/v1/tasks/" + encodeURIComponent(log.taskId) + "/files/read?path=" + encodeURIComponent(log.file);
  try {
    if (log.offset === null) {
      const size = await getJson(base + "&offset=-1");
      log.offset = Math.max(0, (Number(size.offset) || 0) - LOG_START_BYTES);
    }
    for (;;) {
      const chunk = await getJson(base + "&offset=" + log.offset + "&length=" + LOG_READ_BYTES);
      if (ui.log !== log) return;
      const data = String(chunk.data || "");
      if (data.length === 0) break;
      log.offset = (Number(chunk.offset) || log.offset) + new TextEncoder().encode(data).length;
      log.text = (log.text + data).slice(-LOG_KEEP_CHARS);
      const pre = document.getElementById("log-text");
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.textContent = log.text;
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    status.textContent = log.text ? "following " + log.file : log.file + " is empty so far";
    status.className = "message";
  } catch (err) {
    if (ui.log !== log) return;
    status.textContent = "cannot read " + log.file + ": " + err.message;
    status.className = "message bad";
  }
  if (ui.log === log) log.timer = setTimeout(readLog, LOG_POLL_MS);
}

// ---- talking to the master ----

function appPath(id) {
  return "/v2/apps/" + String(id).replace(/^\//, "").split("/").map(encodeURIComponent).join("/");
}

class ApiError extends Error {
  constructor(path, status, body) {
    super(apiMessage(path, status, body));
    this.status = status;
    this.body = body;
  }
}

// Marathon's errors: {"message": ..., "details": [{"path": ..., "errors": [...]}]}.
function apiMessage(path, status, body) {
  if (body && typeof body.message === "string" && body.message) return body.message;
  if (status === 401) return "not logged in (or the login expired): open /login";
  return path + " answered " + status;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(path, response.status, body);
  return body;
}

async function send(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, cache: "no-store" };
  if (body !== null && body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(path, response.status, answer);
  return answer;
}

function notice(text, bad) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.className = "notice " + (bad ? "bad" : "ok");
  box.hidden = !text;
}

async function act(method, path, body, what, after) {
  notice(what + "…", false);
  try {
    const answer = await send(method, path, body);
    const deployment = answer && answer.deploymentId ? " (deployment " + answer.deploymentId + ")" : "";
    notice(what.charAt(0).toUpperCase() + what.slice(1) + ": accepted" + deployment, false);
  } catch (err) {
    notice(what + " failed: " + err.message, true);
  }
  if (after) after();
  poll();
}

async function deploy() {
  const text = document.getElementById("app-json").value;
  const message = document.getElementById("deploy-message");
  const errors = document.getElementById("deploy-errors");
  errors.replaceChildren();
  message.textContent = "deploying…";
  message.className = "message";
  // The text goes to the API as typed: what is wrong with it is the API's to say, in its words.
  try {
    const app = await send("POST", "/v2/apps", text);
    message.textContent = "Deployed " + ((app && app.id) || "the app") + ".";
    message.className = "message ok";
  } catch (err) {
    message.textContent = err.message;
    message.className = "message bad";
    // A 422 lists each field's errors; a 400 for text that is not JSON says where it broke.
    const details = err.body && err.body.details;
    if (Array.isArray(details)) {
      for (const d of details) {
        const item = el("li");
        item.appendChild(el("code", d.path || "/"));
        item.appendChild(el("span", " " + (d.errors || []).join("; ")));
        errors.appendChild(item);
      }
    } else if (typeof details === "string" && details) {
      errors.appendChild(el("li", details));
    }
  }
  poll();
}

// ---- the poll and the views ----

function route() {
  const m = /^#\/node\/(.+)$/.exec(location.hash);
  return m ? { view: "node", id: decodeURIComponent(m[1]) } : { view: "overview" };
}

function redraw() {
  if (!ui.state) return;
  const r = route();
  document.getElementById("overview-view").hidden = r.view !== "overview";
  document.getElementById("node-view").hidden = r.view !== "node";
  document.getElementById("cluster").textContent = ui.state.cluster || "";
  if (r.view === "node") {
    nodeView(r.id);
    return;
  }
  fill("agents", agentRows(ui.state), "no agents registered");
  fill("apps", appRows(ui.apps), "no apps");
  fill("tasks", taskRows(allTasks(ui.apps)), "no tasks");
  fill("jobs", jobRows(ui.jobs), "no jobs");
  fill("deployments", deploymentRows(ui.deployments), "no deployments running");
  clusterCharts();
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const [state, apps, deployments, history, jobs] = await Promise.all([
      getJson("/master/state"),
      getJson("/v2/apps?embed=apps.tasks&embed=apps.lastTaskFailure"),
      getJson("/v2/deployments"),
      // A master without the history or jobs routes still gets the rest of the page.
      getJson("/strato/v1/metrics/history").catch(() => null),
      getJson("/v1/jobs?embed=activeRuns&embed=schedules&embed=history").catch(() => []),
    ]);
    ui.state = state;
    ui.apps = (apps && apps.apps) || [];
    ui.deployments = Array.isArray(deployments) ? deployments : [];
    ui.history = history;
    ui.jobs = Array.isArray(jobs) ? jobs : [];
    redraw();
    status.textContent = "updated " + new Date().toLocaleTimeString();
    status.className = "status ok";
  } catch (err) {
    status.textContent = "cannot reach the master: " + err.message;
    status.className = "status bad";
  }
}

document.getElementById("deploy").addEventListener("click", deploy);
document.getElementById("log-close").addEventListener("click", closeLog);
for (const b of document.querySelectorAll(".log-file")) {
  b.addEventListener("click", () => ui.log && openLog(ui.log.taskId, b.dataset.file));
}
window.addEventListener("hashchange", () => {
  if (location.hash === "#/deploy") {
    location.hash = "#/";
    document.getElementById("app-json").focus();
    return;
  }
  redraw();
});

poll();
setInterval(poll, POLL_MS);
