#!/usr/bin/env python3
"""Drive a running `strato up --local` with the real Metronome client from PyPI (dcos-metronome
0.3.0), and with plain HTTP (requests) for what that client cannot express.

The client parses every answer into protobuf messages (google.protobuf.json_format.Parse), which
refuses any field Metronome did not send: every client call doubles as a check of the JSON
shapes. Its generated code predates protobuf 4: tests/prereqs.sh installs protobuf 3.20.3 and the
runner sets PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python.

Usage: STRATO_METRONOME_URL=http://127.0.0.1:8080 .venv/bin/python tests/python/test_metronome_client.py
Run by tests/it/runtime/metronome_client.rs. Prints one `ok:` line per step; exits 1 on the first
failure with the step's name and the reason.
"""

import os
import sys
import time
import traceback

import requests
from google.protobuf.wrappers_pb2 import DoubleValue
from metronome import MetronomeClient, MetronomeHttpError, NotFoundError
from metronome.models import JobRun, JobSpec, ScheduleSpec

URL = os.environ.get("STRATO_METRONOME_URL")
WITHIN = float(os.environ.get("STRATO_WAIT_SECONDS", "60"))


class Failure(Exception):
    pass


def wait_until(what, check, within=WITHIN):
    """Poll `check` until it returns something truthy; fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        last = value
        time.sleep(0.2)
    raise Failure(f"timed out after {within}s waiting for {what} (last: {last!r})")


def expect(condition, message):
    if not condition:
        raise Failure(message)


def job(job_id, cmd, restart=None, deadline=None):
    spec = JobSpec(id=job_id, description=f"{job_id} from the PyPI client")
    spec.labels["owner"] = "pyclient"
    spec.run.cmd = cmd
    spec.run.cpus = 0.05
    spec.run.mem = 32
    spec.run.disk.CopyFrom(DoubleValue(value=0))
    spec.run.env["GREETING"] = "hello"
    if restart:
        spec.run.restart.policy = JobSpec.RunSpec.RestartSpec.RestartPolicy.Value(restart)
    if deadline:
        spec.run.restart.activeDeadlineSeconds = deadline
    return spec


def history(job_id):
    """The job's history as Metronome embeds it (the client's JobSpec has no field for it)."""
    answer = requests.get(f"{URL}/v1/jobs/{job_id}", params={"embed": "history"}, timeout=10)
    answer.raise_for_status()
    return answer.json()["history"]


def finished(job_id, outcome, count=1):
    """History once it holds `count` runs of `outcome` ("successful" or "failed")."""
    def check():
        h = history(job_id)
        return h if len(h[f"{outcome}FinishedRuns"]) >= count else None
    return wait_until(f"{count} {outcome} run(s) of {job_id} in its history", check)


def main():
    expect(URL, "STRATO_METRONOME_URL is not set")
    client = MetronomeClient(URL, timeout=10)
    steps = []

    def step(name):
        steps.append(name)
        print(f"ok: {name}", flush=True)

    expect(client.ping().strip() == "pong", "ping")
    step("ping")

    created = client.create_job(job("pyclient.hello", 'echo "$GREETING from a job"'))
    expect(created.id == "pyclient.hello" and created.run.cmd.startswith("echo"), f"create_job: {created}")
    expect(created.run.restart.policy == JobSpec.RunSpec.RestartSpec.RestartPolicy.Value("NEVER"),
           f"default restart policy: {created.run.restart}")
    got = client.get_job("pyclient.hello")
    expect(got.labels["owner"] == "pyclient" and got.run.env["GREETING"] == "hello", f"get_job: {got}")
    expect("pyclient.hello" in [j.id for j in client.list_jobs()], "list_jobs")
    step("create_job, get_job, list_jobs")

    run = client.run_job("pyclient.hello")
    expect(run.jobId == "pyclient.hello" and run.id, f"run_job: {run}")
    done = finished("pyclient.hello", "successful")
    expect(done["successCount"] == 1 and done["successfulFinishedRuns"][0]["id"] == run.id,
           f"history after the run: {done}")
    expect(done["lastSuccessAt"] and done["failureCount"] == 0, f"history summary: {done}")
    try:
        client.get_run("pyclient.hello", run.id)
        raise Failure("a finished run is still listed under /runs")
    except NotFoundError:
        pass
    expect(client.list_runs("pyclient.hello") == [], "no active runs after success")
    step("run_job succeeds and lands in the success history")

    # ON_FAILURE: the task exits 3, is retried, and once the run's deadline passes it fails.
    client.create_job(job("pyclient.flaky", "exit 3", restart="ON_FAILURE", deadline=6))
    client.run_job("pyclient.flaky")
    failed = finished("pyclient.flaky", "failed")
    tasks = failed["failedFinishedRuns"][0]["tasks"]
    expect(len(tasks) >= 2, f"ON_FAILURE did not retry: {failed}")
    expect(failed["successCount"] == 0, f"a failing job succeeded: {failed}")
    step("ON_FAILURE retries, then the run fails into the failed history")

    # activeDeadlineSeconds: a run still going at its deadline is killed.
    client.create_job(job("pyclient.slow", "sleep 600", restart="NEVER", deadline=3))
    slow = client.run_job("pyclient.slow")
    wait_until("the slow run active", lambda: client.get_run("pyclient.slow", slow.id).status
               == JobRun.Status.Value("ACTIVE"))
    killed = finished("pyclient.slow", "failed")
    expect(killed["failedFinishedRuns"][0]["id"] == slow.id, f"deadline: {killed}")
    step("activeDeadlineSeconds kills a run")

    # Schedules through the client (ALLOW: the client's schema knows no FORBID).
    schedule = ScheduleSpec(id="every-minute", cron="* * * * *", timezone="Europe/Berlin",
                            startingDeadlineSeconds=60, enabled=True)
    schedule.concurrencyPolicy = ScheduleSpec.ConcurrencyPolicy.Value("ALLOW")
    made = client.create_schedule("pyclient.hello", schedule)
    expect(made.nextRunAt and made.timezone == "Europe/Berlin", f"create_schedule: {made}")
    expect([s.id for s in client.list_schedules("pyclient.hello")] == ["every-minute"], "list_schedules")
    schedule.cron = "*/5 * * * *"
    updated = client.update_schedule("pyclient.hello", "every-minute", schedule)
    expect(updated.cron == "*/5 * * * *" and updated.nextRunAt, f"update_schedule: {updated}")
    expect(client.get_schedule("pyclient.hello", "every-minute").cron == "*/5 * * * *", "get_schedule")
    # proto3 leaves `false` out of the client's JSON, so disabling takes plain HTTP.
    disabled = requests.put(f"{URL}/v1/jobs/pyclient.hello/schedules/every-minute", timeout=10,
                            json={"id": "every-minute", "cron": "*/5 * * * *", "enabled": False})
    expect(disabled.status_code == 200 and disabled.json()["nextRunAt"] is None, disabled.text)
    expect(client.get_schedule("pyclient.hello", "every-minute").enabled is False, "disabled")
    client.delete_schedule("pyclient.hello", "every-minute")
    expect(client.list_schedules("pyclient.hello") == [], "delete_schedule")
    step("schedules: create, list, get, update, delete")

    # FORBID and the refusals, over plain HTTP.
    forbid = requests.post(f"{URL}/v1/jobs/pyclient.hello/schedules", timeout=10, json={
        "id": "nightly", "cron": "0 2 * * *", "concurrencyPolicy": "FORBID"})
    expect(forbid.status_code == 201 and forbid.json()["concurrencyPolicy"] == "FORBID", forbid.text)
    for body, path in [({"id": "bad", "cron": "61 * * * *"}, "/cron"),
                       ({"id": "tz", "cron": "* * * * *", "timezone": "Atlantis/Lost"}, "/timezone")]:
        answer = requests.post(f"{URL}/v1/jobs/pyclient.flaky/schedules", json=body, timeout=10)
        expect(answer.status_code == 422, f"{body}: {answer.status_code} {answer.text}")
        expect(answer.json()["details"][0]["path"] == path, answer.text)
    try:
        client.create_job(job("pyclient.hello", "true"))
        raise Failure("a second job with the same id was accepted")
    except MetronomeHttpError as err:
        expect(err.status_code == 409, f"duplicate job: {err}")
    step("FORBID schedule, bad cron, unknown time zone, duplicate job")

    # Stop a run, then delete jobs (one with a run still going).
    sleeper = client.create_job(job("pyclient.sleeper", "sleep 600"))
    running = client.run_job(sleeper.id)
    wait_until("the sleeper active", lambda: client.get_run(sleeper.id, running.id).status
               == JobRun.Status.Value("ACTIVE"))
    client.stop_run(sleeper.id, running.id)
    stopped = finished(sleeper.id, "failed")
    expect(stopped["failedFinishedRuns"][0]["id"] == running.id, f"stop_run: {stopped}")
    again = client.run_job(sleeper.id)
    try:
        client.delete_job(sleeper.id)
        raise Failure("a job with an active run was deleted without stopCurrentJobRuns")
    except MetronomeHttpError as err:
        expect(err.status_code == 409, f"delete with an active run: {err}")
    expect(client.delete_job(sleeper.id, stop_current_job_runs=True).status_code == 200, "delete_job")
    for job_id in ["pyclient.hello", "pyclient.flaky", "pyclient.slow"]:
        expect(client.delete_job(job_id).status_code == 200, f"delete {job_id}")
    expect([j.id for j in client.list_jobs() if j.id.startswith("pyclient.")] == [], "jobs left")
    expect(again.id != running.id, "run ids repeat")
    step("stop_run, delete_job (refused while running, then with stopCurrentJobRuns)")

    print(f"PASSED: {len(steps)} steps", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # any failure: say what and where, exit non-zero
        traceback.print_exc()
        print(f"FAILED: {err}", file=sys.stderr, flush=True)
        sys.exit(1)
