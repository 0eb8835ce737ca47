"""Batch jobs stay within their time budget: the rest of a batch is queued as a new job."""

from config.batches import budget, within_budget


class Clock:
    """Each item takes `step` seconds."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        return self.now

    def advance(self):
        self.now += self.step


def test_the_rest_is_requeued_once_the_budget_is_spent():
    clock, requeued, done = Clock(step=4), [], []

    def each(item):
        done.append(item)
        clock.advance()
        return item * 10

    results = within_budget([1, 2, 3, 4, 5], each, seconds=10, requeue=requeued.append, clock=clock)
    # 0 s, 4 s, 8 s started; at 12 s the budget of 10 s is gone.
    assert done == [1, 2, 3] and results == [10, 20, 30]
    assert requeued == [[4, 5]]


def test_the_first_item_always_runs_and_nothing_is_requeued_within_budget():
    clock, requeued = Clock(step=100), []
    assert within_budget(
        [1], lambda i: clock.advance(), seconds=0, requeue=requeued.append, clock=clock
    ) == [None]
    assert requeued == []
    clock = Clock(step=0)
    assert within_budget([1, 2, 3], str, seconds=1, requeue=requeued.append, clock=clock) == [
        "1",
        "2",
        "3",
    ]
    assert requeued == []


def test_the_budget_is_half_the_job_timeout_less_one_item(settings):
    settings.Q_TIMEOUT = 300
    assert budget(15) == 135
    settings.Q_TIMEOUT = 10
    assert budget(15) == 0


def test_a_push_job_past_its_budget_queues_the_rest(acme, monkeypatch):
    from bots import jobs
    from bots.dispatch import PushResult

    pushed, queued = [], []
    monkeypatch.setattr(
        "bots.dispatch.push_bot", lambda bot_id: pushed.append(bot_id) or PushResult("synced")
    )
    monkeypatch.setattr(jobs, "enqueue_pushes", queued.append)
    monkeypatch.setattr(jobs, "budget", lambda item_timeout: -1)  # spent after the first
    assert jobs.push_bot_to_backend("a", "b", "c") == "synced"
    assert pushed == ["a"] and queued == [("b", "c")]


def test_a_delivery_job_past_its_budget_queues_the_rest(monkeypatch):
    from webhooks import delivery, jobs

    waves, queued = [], []
    monkeypatch.setattr(delivery, "attempt_many", waves.append)
    monkeypatch.setattr(delivery, "SEND_CONCURRENCY", 1)  # a wave per delivery
    monkeypatch.setattr(jobs.queueing, "enqueue_delivery", queued.append)
    monkeypatch.setattr(jobs, "budget", lambda item_timeout: -1)
    jobs.deliver("a", "b")
    assert waves == [("a",)] and queued == [["b"]]
