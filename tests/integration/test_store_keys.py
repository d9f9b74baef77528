"""The store's record of its encryption: the decision table, and processes opening a new store together."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

from jawazat_events.bootstrap import bootstrap
from jawazat_events.store import ConfigurationError
from jawazat_events.store_keys import KeysGiven, StoreKeys, StoreRecord, fingerprint, required_additions

K1, K2, K3 = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2, 3))
F1, F2, F3 = (fingerprint(k) for k in (K1, K2, K3))

# (case, record, keys given, fingerprints to add, or a fragment of the refusal)
DECISIONS: list[tuple[str, StoreRecord, KeysGiven, list[str] | str]] = [
    ("clear store, no key", StoreRecord(False, ()), KeysGiven(None), []),
    ("clear store, a key", StoreRecord(False, ()), KeysGiven(K1), "holds events in clear"),
    ("encrypted, its key", StoreRecord(True, (F1,)), KeysGiven(K1), []),
    ("encrypted, no key", StoreRecord(True, (F1,)), KeysGiven(None), "is encrypted (key fingerprint"),
    ("encrypted, another key", StoreRecord(True, (F1,)), KeysGiven(K2), "to rotate keys"),
    ("rotation: new key, old key kept", StoreRecord(True, (F1,)), KeysGiven(K2, (K1,)), [F2]),
    ("after rotation, both", StoreRecord(True, (F1, F2)), KeysGiven(K2, (K1,)), []),
    ("after rotation, new key alone", StoreRecord(True, (F1, F2)), KeysGiven(K2), "neither"),
    ("after rotation, old key alone", StoreRecord(True, (F1, F2)), KeysGiven(K1), "neither"),
    ("second rotation", StoreRecord(True, (F1, F2)), KeysGiven(K3, (K2, K1)), [F3]),
    ("second rotation, oldest forgotten", StoreRecord(True, (F1, F2)), KeysGiven(K3, (K2,)), "neither"),
    ("an unneeded old key is harmless", StoreRecord(True, (F1,)), KeysGiven(K1, (K3,)), []),
]


@pytest.mark.parametrize(("case", "record", "given", "expected"), DECISIONS, ids=[c[0] for c in DECISIONS])
def test_what_a_process_may_do_with_the_keys_it_was_given(
    case: str, record: StoreRecord, given: KeysGiven, expected: list[str] | str
) -> None:
    if isinstance(expected, list):
        assert required_additions(record, given, where="X") == expected
        return
    with pytest.raises(ConfigurationError) as refused:
        required_additions(record, given, where="X")
    message = str(refused.value)
    assert expected in message and message.endswith("nothing was written")
    assert not any(k in message for k in (K1, K2, K3))


def test_fingerprints_reveal_nothing_of_the_key_and_differ_per_key() -> None:
    assert len({F1, F2, F3}) == 3 and all(len(f) == 64 for f in (F1, F2, F3))
    assert base64.b64decode(K1).hex() not in F1


def test_processes_opening_a_new_store_together_agree_on_one_answer(
    database_url: str, tmp_path: Path
) -> None:
    """Keyed and keyless processes race to open an empty store: the first answer recorded stands, every
    process that disagrees is refused, and the record holds no fingerprint of a refused key."""
    outcomes: dict[int, str] = {}

    def open_store(number: int) -> None:
        keys = {"cipher_key": K1} if number % 2 else {}
        wired = bootstrap(database_url=database_url, outbox_dir=tmp_path / "outbox", **keys)
        try:
            _ = wired.app
            outcomes[number] = "keyed" if keys else "keyless"
        except ConfigurationError:
            outcomes[number] = "refused"
        finally:
            wired.close()

    threads = [threading.Thread(target=open_store, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    opened = {o for o in outcomes.values() if o != "refused"}
    assert len(outcomes) == 6 and len(opened) == 1, outcomes
    wired = bootstrap(
        database_url=database_url,
        outbox_dir=tmp_path / "outbox",
        **({"cipher_key": K1} if opened == {"keyed"} else {}),
    )
    try:
        record = StoreKeys(wired.app.recorder, postgres=wired.database.backend == "postgres").read()
    finally:
        wired.close()
    assert record == (StoreRecord(True, (F1,)) if opened == {"keyed"} else StoreRecord(False, ()))
