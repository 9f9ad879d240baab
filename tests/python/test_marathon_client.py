#!/usr/bin/env python3
"""Drive a running `strato up --local` with the real `marathon` client from PyPI (0.13.0).

The client builds its models with `cls(**json)`, so any field Strato emits that Marathon does not
makes it raise: every call here doubles as a check of the JSON shapes.

Usage: STRATO_MARATHON_URL=http://127.0.0.1:8080 .venv/bin/python tests/python/test_marathon_client.py
Run by tests/it/runtime/marathon_client.rs. Prints one `ok:` line per step; exits 1 on the first
failure with the step's name and the reason.
"""

import collections
import collections.abc
import os
import sys
import threading
import time
import traceback

# marathon-python 0.13.0's MarathonObject.to_json (marathon/util.py, used for groups) still asks
# for collections.Iterable, which Python 3.10 removed: the alias it wants, for this process only.
if not hasattr(collections, "Iterable"):
    collections.Iterable = collections.abc.Iterable

from marathon import MarathonClient
from marathon.exceptions import NotFoundError
from marathon.models import MarathonApp, MarathonGroup

URL = os.environ.get("STRATO_MARATHON_URL")
PREFIX = "/pyclient"
APP = PREFIX + "/sleeper"
STUCK = PREFIX + "/too-big"
GROUP = PREFIX + "/stack"
WITHIN = float(os.environ.get("STRATO_WAIT_SECONDS", "60"))


class Failure(Exception):
    pass


def wait_until(what, check, within=WITHIN):
    """Poll `check` until it returns something truthy; fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
            last = value
        except NotFoundError as err:
            last = err
        time.sleep(0.2)
    raise Failure(f"timed out after {within}s waiting for {what} (last: {last!r})")


def expect(condition, message):
    if not condition:
        raise Failure(message)


def settled(client, app_id, instances, cmd=None):
    """The app runs `instances` tasks, has no deployment in flight, and (if given) runs `cmd`."""
    app = client.get_app(app_id)
    running = [t for t in app.tasks if t.state == "TASK_RUNNING"]
    ok = (
        app.tasks_running == instances
        and len(running) == instances
        and not app.deployments
        and (cmd is None or app.cmd == cmd)
    )
    return app if ok else None


class EventReader(threading.Thread):
    """Reads the SSE stream in the background, keeping every parsed event."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client = client
        self.events = []
        self.error = None

    def run(self):
        try:
            for event in self.client.event_stream():
                self.events.append(event)
        except Exception as err:  # the client raises on events it does not know
            self.error = err

    def types(self):
        return [e.event_type for e in self.events]


def groups(client, step):
    """Groups: create with a dependency, update without an app (it stops), roll back (it comes
    back), scale, list, delete."""
    def member(name, **extra):
        return MarathonApp(id=f"{GROUP}/{name}", cmd="sleep 600", cpus=0.05, mem=16, instances=1, **extra)

    def exists(app_id):
        try:
            client.get_app(app_id)
            return True
        except NotFoundError:
            return False

    def idle():
        return not [d for d in client.list_deployments() if any(a.startswith(GROUP + "/") for a in d.affected_apps)]

    result = client.create_group(MarathonGroup(id=GROUP, apps=[member("db"), member("web", dependencies=[GROUP + "/db"])]))
    expect("deploymentId" in result, f"create_group answered {result!r}")
    wait_until("the group's apps to run", lambda: settled(client, GROUP + "/db", 1) and settled(client, GROUP + "/web", 1))
    first = client.get_group(GROUP)
    expect(sorted(a.id for a in first.apps) == [GROUP + "/db", GROUP + "/web"], f"get_group apps: {first.apps!r}")
    top = [g for g in client.list_groups() if g.id == PREFIX]
    expect(top and any(g.id == GROUP for g in top[0].groups), f"{GROUP} not under {PREFIX} in list_groups")
    step("groups: create, get, list")

    wait_until("the group's deployment to end", idle)
    client.update_group(GROUP, MarathonGroup(id=GROUP, apps=[member("db")]))
    wait_until("web, left out of the update, to stop", lambda: not exists(GROUP + "/web"))
    expect(exists(GROUP + "/db"), "db went with web")
    step("groups: update (an app left out stops)")

    wait_until("the update's deployment to end", idle)
    result = client.rollback_group(GROUP, first.version)
    expect("deploymentId" in result, f"rollback_group answered {result!r}")
    wait_until("web back after the rollback", lambda: settled(client, GROUP + "/web", 1))
    step("groups: rollback")

    wait_until("the rollback's deployment to end", idle)
    client.scale_group(GROUP, 2)
    wait_until("both apps at 2 instances", lambda: settled(client, GROUP + "/db", 2) and settled(client, GROUP + "/web", 2))
    step("groups: scale")

    wait_until("the scale's deployment to end", idle)
    result = client.delete_group(GROUP)
    expect("deploymentId" in result, f"delete_group answered {result!r}")
    wait_until("the group's apps to be gone", lambda: not exists(GROUP + "/db") and not exists(GROUP + "/web"))
    step("groups: delete")


def main():
    if not URL:
        raise Failure("STRATO_MARATHON_URL is not set")
    client = MarathonClient(URL, timeout=10)
    steps = []

    def step(name):
        steps.append(name)
        print(f"ok: {name}", flush=True)

    # Leftovers from an earlier run against the same cluster would confuse the counts below.
    for app in client.list_apps():
        if app.id.startswith(PREFIX + "/"):
            client.delete_app(app.id, force=True)
    wait_until("leftover apps to be gone", lambda: not [a for a in client.list_apps() if a.id.startswith(PREFIX + "/")])

    expect(client.ping().strip().startswith(b"pong"), "ping did not answer pong")
    step("ping")

    info = client.get_info()
    expect(info.name, "info has no name")
    expect(info.marathon_config is not None and info.http_config is not None, "info lacks marathon_config/http_config")
    step("info")

    leader = client.get_leader()
    expect(isinstance(leader, dict) and leader.get("leader"), f"leader answer is {leader!r}")
    step("leader")

    events = EventReader(client)
    events.start()
    wait_until("the event stream to attach", lambda: events.error or "event_stream_attached" in events.types(), 15)
    expect(events.error is None, f"event stream failed: {events.error!r}")

    # create
    created = client.create_app(APP, MarathonApp(cmd="sleep 600", cpus=0.1, mem=16, instances=1))
    expect(created, "create_app did not get 201")
    step("create")

    app = wait_until("the app to run one task", lambda: settled(client, APP, 1))
    step("get (running)")

    # events seen while creating the app
    def saw_status_update():
        return any(
            e.event_type == "status_update_event" and getattr(e, "app_id", None) == APP and getattr(e, "task_status", None) == "TASK_RUNNING"
            for e in events.events
        )

    wait_until("a status_update_event TASK_RUNNING for the app on the event stream", lambda: events.error or saw_status_update(), 30)
    expect(events.error is None, f"event stream failed: {events.error!r}")
    expect("api_post_event" in events.types() or "deployment_success" in events.types(),
           f"no api_post_event or deployment_success among {sorted(set(events.types()))}")
    step(f"event stream ({len(events.events)} events: {', '.join(sorted(set(events.types())))})")

    # list
    ids = [a.id for a in client.list_apps()]
    expect(APP in ids, f"{APP} not in list_apps: {ids}")
    with_tasks = [a for a in client.list_apps(embed_tasks=True, embed_counts=True) if a.id == APP]
    expect(with_tasks and len(with_tasks[0].tasks) == 1, "list_apps(embed_tasks) lacks the task")
    step("list")

    tasks = client.list_tasks(APP)
    expect(len(tasks) == 1 and tasks[0].host and tasks[0].state == "TASK_RUNNING", f"list_tasks: {tasks!r}")
    all_tasks = client.list_tasks()
    expect(any(t.id == tasks[0].id for t in all_tasks), "the task is missing from /v2/tasks")
    step("tasks")

    # update (partial PUT): a new command, a new version
    first_version = app.version
    result = client.update_app(APP, MarathonApp(cmd="sleep 601"))
    expect("deploymentId" in result and "version" in result, f"update_app answered {result!r}")
    wait_until("the updated command to run", lambda: settled(client, APP, 1, cmd="sleep 601"))
    step("update")

    versions = client.list_versions(APP)
    expect(len(versions) >= 2 and first_version in versions, f"versions {versions} lack {first_version}")
    old = client.get_version(APP, first_version)
    expect(old.cmd == "sleep 600", f"version {first_version} has cmd {old.cmd!r}")
    step("versions")

    result = client.rollback_app(APP, first_version)
    expect("deploymentId" in result, f"rollback_app answered {result!r}")
    wait_until("the rolled-back command to run", lambda: settled(client, APP, 1, cmd="sleep 600"))
    step("rollback")

    # scale up and down
    client.scale_app(APP, instances=2)
    wait_until("two instances", lambda: settled(client, APP, 2))
    client.scale_app(APP, delta=-1)
    wait_until("one instance again", lambda: settled(client, APP, 1))
    step("scale")

    # restart: every task is replaced
    before = {t.id for t in client.list_tasks(APP)}
    result = client.restart_app(APP)
    expect("deploymentId" in result, f"restart_app answered {result!r}")
    wait_until("restarted tasks", lambda: (a := settled(client, APP, 1)) and not ({t.id for t in a.tasks} & before))
    step("restart")

    # kill one task: it is replaced
    victim = client.list_tasks(APP)[0].id
    client.kill_task(APP, victim)
    wait_until("a replacement for the killed task", lambda: (a := settled(client, APP, 1)) and victim not in {t.id for t in a.tasks})
    victim = client.list_tasks(APP)[0].id
    expect(client.kill_given_tasks([victim]), "kill_given_tasks did not answer 200")
    wait_until("a replacement after kill_given_tasks", lambda: (a := settled(client, APP, 1)) and victim not in {t.id for t in a.tasks})
    step("kill")

    # a deployment that cannot finish: the queue shows it waiting, deleting it ends it
    expect(client.create_app(STUCK, MarathonApp(cmd="sleep 600", cpus=4096, mem=16, instances=1)),
           "create_app for the unplaceable app did not get 201")
    stuck = wait_until("the unplaceable app's deployment", lambda: [d for d in client.list_deployments() if STUCK in d.affected_apps])
    queue = wait_until("the unplaceable app in the queue", lambda: [q for q in client.list_queue() if q.app.id == STUCK])
    expect(queue[0].count >= 1, f"queue count is {queue[0].count}")
    client.reset_delay(STUCK)
    step("deployments (list) and queue")
    client.delete_deployment(stuck[0].id, force=True)
    wait_until("the deployment to be gone", lambda: not [d for d in client.list_deployments() if d.id == stuck[0].id])
    step("deployments (delete)")
    client.delete_app(STUCK, force=True)

    # kill all tasks and scale to zero, then delete
    client.kill_tasks(APP, scale=True)
    wait_until("zero instances", lambda: settled(client, APP, 0))
    step("kill_tasks(scale)")

    result = client.delete_app(APP)
    expect("deploymentId" in result, f"delete_app answered {result!r}")

    def gone():
        try:
            client.get_app(APP)
            return False
        except NotFoundError:
            return True

    wait_until("the app to be deleted", gone)
    step("delete")

    groups(client, step)

    expect(events.error is None, f"event stream failed later: {events.error!r}")
    print(f"PASSED: {len(steps)} steps", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # any failure: say what and where, exit non-zero
        traceback.print_exc()
        print(f"FAILED: {err}", file=sys.stderr, flush=True)
        sys.exit(1)
