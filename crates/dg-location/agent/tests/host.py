"""A real host for the run worker's tests: a listening Unix socket that collects the worker's lines
and, like `dg`'s host, stores each event through real Dagster storage (an unpatched
`DagsterInstance` of the same home, in this test process) before acknowledging it with
`stored`, so the worker's reads of the instance are real."""

import json
import socket
import threading

from _dg_agent import wire


class Host:
    """`home`: the instance home whose storage receives the events (`None`: store nothing, only
    acknowledge). `ack=False`: never acknowledge. `run_status=False`: store the events without
    updating the run's status (Dagster's `handle_new_event` does; the event log storage's
    `store_event` alone does not)."""

    def __init__(self, path, home=None, ack=True, run_status=True):
        self.path = str(path)
        self.instance = None
        if home is not None:
            import dagster

            self.instance = dagster.DagsterInstance.from_config(str(home))
        self.ack = ack
        self.run_status = run_status
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.listener.settimeout(300)
        self.messages = []
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def create_run(self, run_id, status="STARTING", tags=None, job_name="__ASSET_JOB"):
        """Creates the run row before launching, as the host does."""
        import dagster

        run = dagster.DagsterRun(
            job_name=job_name,
            run_id=run_id,
            status=dagster.DagsterRunStatus[status],
            tags=tags or {},
        )
        self.instance.add_run(run)
        return run

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
            with conn, conn.makefile("rb") as lines:
                for line in lines:
                    message = json.loads(line)
                    self.messages.append(message)
                    if message.get("t") == "event":
                        self._store(message)
                        if self.ack:
                            ack = json.dumps(wire.stored(message["seq"])).encode() + b"\n"
                            try:
                                conn.sendall(ack)
                            except BrokenPipeError:  # the worker stopped listening: it is done
                                pass
        except Exception as exc:  # noqa: BLE001 - reported by `wait`
            self.error = exc

    def _store(self, message):
        text = message.get("dagster")
        if self.instance is None or text is None:
            return  # STDOUT / STDERR: only its number
        import dagster

        entry = dagster.deserialize_value(text)
        if self.run_status:
            self.instance.handle_new_event(entry)
        else:
            self.instance.event_log_storage.store_event(entry)

    def wait(self):
        self.thread.join(timeout=300)
        assert not self.thread.is_alive(), "the worker never closed its run socket"
        self.listener.close()
        assert self.error is None, f"the host failed: {self.error!r}"
        return self.messages

    def events(self):
        return [m["event"] for m in self.messages if m.get("t") == "event"]

    def failure_messages(self):
        return [
            e["error"]["message"]
            for e in self.events()
            if e["type"] in ("RUN_FAILURE", "STEP_FAILURE") and e.get("error")
        ]
