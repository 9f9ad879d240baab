// Strato dashboard: polls the master this page came from and redraws four tables.
// Same-origin requests only; every value goes in through textContent (no HTML injection).
"use strict";

const POLL_MS = 2000;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
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

function fill(tableId, rows, emptyText) {
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
  document.getElementById(tableId + "-count").textContent = "(" + rows.length + ")";
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
  const cls = /RUNNING/.test(s) ? "ok" : /(FAILED|LOST|ERROR|KILLED|GONE|UNREACHABLE)/.test(s) ? "bad" : "wait";
  return el("span", s.replace(/^TASK_/, "") || "?", "badge " + cls);
}

function agentRows(state) {
  const agents = state.slaves || state.agents || [];
  return agents.map((a) =>
    row([
      a.hostname || "",
      a.id || "",
      (a.resources && a.resources.role) || a.role || (a.attributes && a.attributes.public ? "slave_public" : "*"),
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

function appRows(apps) {
  return apps.map((app) =>
    row([
      el("span", app.id, "app-id"),
      el("span", (app.tasksRunning || 0) + " / " + (app.instances || 0), "instances"),
      appHealth(app),
      num(app.cpus),
      num(app.mem),
      el("code", app.cmd || (app.args || []).join(" ") || (app.container && app.container.docker ? app.container.docker.image : "")),
      app.version || "",
    ])
  );
}

function taskHealth(task) {
  const results = task.healthCheckResults || [];
  if (results.length === 0) return "";
  return results.every((r) => r.alive) ? "healthy" : "unhealthy";
}

function taskRows(apps) {
  const rows = [];
  for (const app of apps) {
    for (const task of app.tasks || []) {
      rows.push(
        row([
          el("code", task.id),
          task.appId || app.id,
          el("span", task.host || "", "host"),
          (task.ports || []).join(", "),
          stateBadge(task.state),
          taskHealth(task),
          task.startedAt || "",
        ])
      );
    }
  }
  return rows;
}

function deploymentRows(deployments) {
  return deployments.map((d) =>
    row([
      el("code", d.id),
      (d.affectedApps || []).join(", "),
      (d.currentStep || 0) + " / " + (d.totalSteps || 0),
      (d.currentActions || []).map((a) => a.action + " " + a.app).join(", "),
      d.version || "",
    ])
  );
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(path + " answered " + response.status);
  return response.json();
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const [state, apps, deployments] = await Promise.all([
      getJson("/master/state"),
      getJson("/v2/apps?embed=apps.tasks"),
      getJson("/v2/deployments"),
    ]);
    const appList = (apps && apps.apps) || [];
    document.getElementById("cluster").textContent = state.cluster || "";
    fill("agents", agentRows(state), "no agents registered");
    fill("apps", appRows(appList), "no apps");
    fill("tasks", taskRows(appList), "no tasks");
    fill("deployments", deploymentRows(Array.isArray(deployments) ? deployments : []), "no deployments running");
    status.textContent = "updated " + new Date().toLocaleTimeString();
    status.className = "status ok";
  } catch (err) {
    status.textContent = "cannot reach the master: " + err.message;
    status.className = "status bad";
  }
}

poll();
setInterval(poll, POLL_MS);
