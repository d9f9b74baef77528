"""The advisory-lock registry: no two roles share a (class, key) pair."""

from __future__ import annotations

from jawazat_events import locks
from jawazat_events.scheduler import JOB_NAMES, LOCK_KEYS


def test_lock_classes_are_distinct() -> None:
    values = [member.value for member in locks.LockClass]
    assert len(values) == len(set(values))


def test_no_two_named_locks_share_a_pair() -> None:
    pairs = list(locks.fixed_locks().values())
    pairs += [LOCK_KEYS[job] for job in JOB_NAMES]
    pairs += [locks.fanout_partition_lock(k) for k in range(1024)]  # the largest partition count allowed
    assert len(pairs) == len(set(pairs)), "two roles share an advisory lock"


def test_scheduler_jobs_do_not_take_the_read_model_schema_lock() -> None:
    # The defect this registry fixes: retry_deliveries' lock was the read models' table-creation lock.
    assert locks.READ_MODEL_CREATE_TABLES not in LOCK_KEYS.values()
